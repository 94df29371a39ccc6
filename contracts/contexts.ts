import * as catalog from './catalog';
import { CatalogContract } from './catalog';
import * as identity from './identity';
import { IdentityContract } from './identity';
import * as inventory from './inventory';
import { InventoryContract } from './inventory';
import type { BoundedContext, Contract, EventDefinition, SubgraphContract, SubgraphSdl } from './kernel';
import * as notifications from './notifications';
import { NotificationsContract } from './notifications';
import * as ordering from './ordering';
import { OrderingContract } from './ordering';
import * as payments from './payments';
import { PaymentsContract } from './payments';
import * as shipping from './shipping';
import { ShippingContract } from './shipping';

/** What the contracts say of one bounded context: the contract it serves and the events it publishes. */
export interface ContextContracts {
  readonly contract: Contract;
  /** Every integration event its contract package exports. */
  readonly events: readonly EventDefinition[];
  /** Its `.proto`, relative to `contracts/`. */
  readonly proto: string;
  /** Its GraphQL subgraph, when it serves one (`<context>.subgraph.ts`, exported by its package). */
  readonly subgraph?: SubgraphSdl;
}

/**
 * Every bounded context's contracts, keyed by its name: a context listed in `BOUNDED_CONTEXTS`
 * and missing here does not compile. The lists below, and the tests' lists, derive from it.
 */
export const CONTEXT_CONTRACTS: { readonly [C in BoundedContext]: ContextContracts } = {
  catalog: contractsOf('catalog', CatalogContract, catalog),
  inventory: contractsOf('inventory', InventoryContract, inventory),
  ordering: contractsOf('ordering', OrderingContract, ordering),
  payments: contractsOf('payments', PaymentsContract, payments),
  shipping: contractsOf('shipping', ShippingContract, shipping),
  identity: contractsOf('identity', IdentityContract, identity),
  notifications: contractsOf('notifications', NotificationsContract, notifications),
};

/** Every contract of the system: what the edge calls, and what each process serves or routes. */
export const ALL_CONTRACTS: readonly Contract[] = Object.values(CONTEXT_CONTRACTS).map((entry) => entry.contract);

/** Every integration event of the system, as each context's contract package exports it. */
export const ALL_EVENTS: readonly EventDefinition[] = Object.values(CONTEXT_CONTRACTS).flatMap((entry) => entry.events);

/** Every GraphQL subgraph of the system: what the supergraph composes, and `contracts:check` compares. */
export const ALL_SUBGRAPHS: readonly SubgraphSdl[] = Object.values(CONTEXT_CONTRACTS).flatMap((entry) =>
  entry.subgraph ? [entry.subgraph] : [],
);

/**
 * The contracts through which each subgraph answers the gateway's planner when its context runs
 * in another process (`<Context>SubgraphService` of its .proto): routed, served and guarded like
 * the contracts above.
 */
export const ALL_SUBGRAPH_CONTRACTS: readonly SubgraphContract[] = ALL_SUBGRAPHS.map((subgraph) => subgraph.contract);

/** The subgraph contract of `context`; throws for a context that declares no subgraph. */
export function subgraphContractOf(context: string): SubgraphContract {
  const subgraph = ALL_SUBGRAPHS.find((declared) => declared.name === context);
  if (!subgraph) throw new Error(`${context} declares no GraphQL subgraph`);
  return subgraph.contract;
}

function contractsOf(
  context: BoundedContext,
  contract: Contract,
  contractPackage: Record<string, unknown>,
): ContextContracts {
  if (contract.context !== context)
    throw new Error(`the contract ${contract.name} is served by "${contract.context}", listed under "${context}"`);
  const subgraphs = Object.values(contractPackage).filter(isSubgraph);
  if (subgraphs.some((subgraph) => subgraph.name !== context))
    throw new Error(`a subgraph exported by the "${context}" contracts is named otherwise`);
  return {
    contract,
    events: Object.values(contractPackage).filter(isEvent),
    proto: `${context}/${context}.proto`,
    ...(subgraphs.length === 1 ? { subgraph: subgraphs[0] } : {}),
  };
}

function isSubgraph(value: unknown): value is SubgraphSdl {
  const candidate = value as Partial<SubgraphSdl> | null;
  return typeof candidate?.name === 'string' && typeof candidate.typeDefs === 'string';
}

function isEvent(value: unknown): value is EventDefinition {
  const candidate = value as Partial<EventDefinition> | null;
  return (
    typeof candidate?.type === 'string' &&
    typeof candidate.version === 'number' &&
    typeof candidate.aggregateIdOf === 'function'
  );
}
