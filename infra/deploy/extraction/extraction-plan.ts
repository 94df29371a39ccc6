import { KNOWN_MODULES, type DeployTarget, type Topology } from '@infra/topology';
import { closestName } from '@infra/topology/closest-name';

/**
 * The first step of the strangler fig as data: which target gives up a context, what the new
 * target is called and where it listens. Decided from the loaded topology alone; the text of the
 * new file is written by extraction-topology-text.ts, the deploy files by the one generator.
 */
export interface ExtractionPlan {
  readonly context: string;
  /** The new target's name: the context's, unless a target of that name already exists. */
  readonly target: string;
  /** The target that hosts the context now and keeps it (its events, its data) until `ficus retire`. */
  readonly owner: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The owner's gRPC port; `added` when the owner had none (a single-process topology). */
  readonly ownerGrpc: { readonly port: number; readonly added: boolean };
  /** `defaults.grpc.host` has to be written: no host would be known for the new target. */
  readonly addGrpcHost: boolean;
  /** The host the new target is dialled at (`defaults.grpc.host`, or the one added). */
  readonly grpcHost: string;
  /** The new topology's `name`. */
  readonly topologyName: string;
}

export interface ExtractionChoices {
  readonly grpcPort?: number;
  readonly httpPort?: number;
}

/** A refusal to extract, said to the user as it is. */
export class ExtractionRefused extends Error {
  override readonly name = 'ExtractionRefused';
}

/** Where a topology without `defaults.grpc.host` has its targets dialled once it has several. */
export const DEFAULT_GRPC_HOST = '127.0.0.1';
/** split.yaml's conventions: gRPC 7051–7057 and HTTP 3101–3107 by context, 7050 for a process of several. */
const GRPC_BASE = 7050;
const HTTP_BASE = 3100;

/**
 * Checks that `context` can be extracted from `topology` and picks the new target's name and
 * ports: the flags' ports when given (refused when the topology uses them already), otherwise
 * split.yaml's port of the context when free, else the next free one after it.
 */
export function planExtraction(
  topology: Topology,
  context: string,
  choices: ExtractionChoices = {},
  defaultGrpcHost?: string,
): ExtractionPlan {
  const owner = ownerOf(topology, context);
  const target = topology.targets.some((t) => t.name === context) ? `${context}-extracted` : context;
  if (topology.targets.some((t) => t.name === target)) {
    throw new ExtractionRefused(
      `topology ${topology.name} has targets "${context}" and "${target}" already: rename one, then extract ${context}`,
    );
  }

  const used = usedPorts(topology);
  const take = (port: number, what: string): number => {
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw new ExtractionRefused(`${what} ${port} is no port: give a whole number from 1 to 65535`);
    const user = used.get(port);
    if (user)
      throw new ExtractionRefused(`${what} ${port} is used by ${user} in ${topology.source}: give another port`);
    used.set(port, what);
    return port;
  };
  const free = (preferred: number, base: number, what: string): number => {
    for (const port of [preferred, ...range(base, base + 100), ...range(base + 100, 65_536)]) {
      if (!used.has(port)) return take(port, what);
    }
    throw new ExtractionRefused(`no free port for ${what}`); // 65 535 ports in one topology: unreachable in practice
  };

  const ownerGrpc = owner.grpc
    ? { port: owner.grpc.port, added: false }
    : { port: free(GRPC_BASE, GRPC_BASE, `${whose(owner.name)} gRPC port`), added: true };
  const index = Math.max(0, (KNOWN_MODULES as readonly string[]).indexOf(context)) + 1;
  const grpcPort =
    choices.grpcPort !== undefined
      ? take(choices.grpcPort, '--grpc-port')
      : free(GRPC_BASE + index, GRPC_BASE, `${whose(target)} gRPC port`);
  const httpPort =
    choices.httpPort !== undefined
      ? take(choices.httpPort, '--http-port')
      : free(HTTP_BASE + index, HTTP_BASE, `${whose(target)} HTTP port`);

  return {
    context,
    target,
    owner: owner.name,
    grpcPort,
    httpPort,
    ownerGrpc,
    addGrpcHost: defaultGrpcHost === undefined,
    grpcHost: defaultGrpcHost ?? DEFAULT_GRPC_HOST,
    topologyName: extractingName(topology.name, context),
  };
}

/** `monolith` → `monolith-extracting-inventory`; a second context joins the list. */
export function extractingName(name: string, context: string): string {
  return /-extracting-/.test(name) ? `${name}-${context}` : `${name}-extracting-${context}`;
}

/** `payments'`, `core's`: a name's possessive, for messages. */
export function whose(name: string): string {
  return name.endsWith('s') ? `${name}'` : `${name}'s`;
}

function ownerOf(topology: Topology, context: string): DeployTarget {
  if (!topology.modules.includes(context)) {
    const suggestion = closestName(context, topology.modules);
    throw new ExtractionRefused(
      `"${context}" is not a context of topology ${topology.name} (${topology.source})` +
        `${suggestion ? ` — did you mean "${suggestion}"?` : ''}; its contexts: ${topology.modules.join(', ')}`,
    );
  }
  const extraction = topology.extractionOf(context);
  if (extraction) {
    throw new ExtractionRefused(
      `${context} is being extracted already: target "${extraction.name}" runs it beside ` +
        `"${extraction.extractedFrom}" in ${topology.source}. ` +
        `Shift calls to it (ficus shift ${context}), or finish with ficus retire ${context}`,
    );
  }
  const owner = topology.targetOf(context);
  if (owner.modules.length === 1) {
    throw new ExtractionRefused(
      owner.edge
        ? `${context} is the only module left in "${owner.name}", the edge: it runs in a process of its own ` +
            `already. To leave the edge bare, write the topology by hand (split.yaml shows one)`
        : `${context} is its own target already: "${owner.name}" hosts nothing else. Nothing to extract`,
    );
  }
  return owner;
}

/** Every port the topology names, whatever the host: a new one should be told apart at a glance. */
function usedPorts(topology: Topology): Map<number, string> {
  const used = new Map<number, string>();
  const add = (port: number | undefined, what: string) => {
    if (port !== undefined && !used.has(port)) used.set(port, what);
  };
  for (const target of topology.targets) {
    add(target.http.port, `targets.${target.name}.http.port`);
    add(target.grpc?.port, `targets.${target.name}.grpc.port`);
    add(target.grpc?.listenPort, `targets.${target.name}.grpc.listenPort`);
    add(target.canary?.grpc.port, `targets.${target.name}.canary.grpc.port`);
    add(target.canary?.http.port, `targets.${target.name}.canary.http.port`);
  }
  return used;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
