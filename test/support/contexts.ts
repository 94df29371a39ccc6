import { KNOWN_MODULES } from '@infra/topology';

/**
 * The contexts a hand-written topology fixture lists, derived from the one list the compiler
 * checks: a context added with `ficus new context` is placed in every fixture by itself, so that
 * `npm test` passes on the day it is added. Tests name the contexts they move or leave out, never
 * the whole shop.
 */
export const ALL_CONTEXTS: readonly string[] = KNOWN_MODULES;

/** Every context but `left`, in the list's order. */
export function contextsBut(...left: string[]): string[] {
  for (const name of left) {
    if (!ALL_CONTEXTS.includes(name)) throw new Error(`"${name}" is not a context: ${ALL_CONTEXTS.join(', ')}`);
  }
  return ALL_CONTEXTS.filter((context) => !left.includes(context));
}

/** A YAML flow list: `[catalog, inventory, …]`. */
export function flowList(contexts: readonly string[]): string {
  return `[${contexts.join(', ')}]`;
}
