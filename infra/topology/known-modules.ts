import { BOUNDED_CONTEXTS, type BoundedContext } from '@contracts/kernel';

/**
 * The bounded contexts a topology must place, each exactly once (their list belongs to the
 * contracts; infra only reads it). The loader needs the full set to report a module that runs
 * nowhere and to suggest a name for a typo; a caller with another set (a test, a new context not
 * yet listed) passes its own through `TopologyOptions.modules`.
 */
export const KNOWN_MODULES = BOUNDED_CONTEXTS;

export type KnownModule = BoundedContext;
