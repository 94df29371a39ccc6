import type { Topology } from '@infra/topology';

export interface Placement {
  /** The target still holding the monolith's modules. */
  readonly monolith: string;
  /** Contexts in it: candidates for extraction. */
  readonly candidates: readonly string[];
  /** Contexts already elsewhere. */
  readonly elsewhere: readonly { readonly context: string; readonly target: string }[];
}

/**
 * Which target is "the monolith" in a topology: the one with the public HTTP edge that still
 * hosts modules; without one, the target hosting the most modules. Targets that are extractions
 * in progress (`extractedFrom`) do not count: their modules are still owned by the monolith.
 */
export function monolithPlacement(topology: Topology, contexts: readonly string[]): Placement {
  const owners = topology.targets.filter((target) => !target.extractedFrom && target.modules.length > 0);
  const monolith =
    owners.find((target) => target.edge) ??
    [...owners].sort((a, b) => b.modules.length - a.modules.length || a.name.localeCompare(b.name))[0];
  const targetOf = (context: string) => owners.find((target) => target.modules.includes(context))?.name;
  return {
    monolith: monolith?.name ?? 'none',
    candidates: contexts.filter((context) => monolith?.modules.includes(context)),
    elsewhere: contexts.flatMap((context) => {
      const target = targetOf(context);
      return target && target !== monolith?.name ? [{ context, target }] : [];
    }),
  };
}

/** The target hosting each context (extractions in progress left out). */
export function targetOfContext(topology: Topology): (context: string) => string | undefined {
  return (context) =>
    topology.targets.find((target) => !target.extractedFrom && target.modules.includes(context))?.name;
}
