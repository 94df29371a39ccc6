import { z } from 'zod';
import { SubgraphServiceDefinition } from '../generated/kernel/subgraph';
import { defineContract, unary, type Contract, type ContractApi } from './contract';

/**
 * A context's GraphQL subgraph as its contract declares it: the SDL only (Federation v2). It is a
 * contract like the `.proto` and the event schemas: what the supergraph composes, and what
 * `contracts:check` will compare with the released one. Its resolvers live with whoever serves it.
 */
export interface SubgraphSdl {
  /** The context: the subgraph's name in the supergraph. */
  readonly name: string;
  readonly typeDefs: string;
}

/** The `@link` every ficus subgraph opens with: Federation v2.6 and the directives ficus uses. */
export const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@shareable"])';

/** Money as every subgraph that shows an amount declares it (shareable: the same in each). */
export const MONEY_TYPE = `
"""An amount in the minor unit of its currency (cents for EUR)."""
type Money @shareable {
  amountMinor: Int!
  currency: String!
}`;

/** A page of `item`s, as every list of the shop pages: the items, where the page is, and how many in all. */
export function pageType(name: string, item: string): string {
  return `type ${name} {
  items: [${item}!]!
  page: Int!
  pageSize: Int!
  total: Int!
}`;
}

const SUBGRAPH_METHODS = {
  /**
   * Runs one query of the planner's against the context's subgraph (its root fields or
   * `_entities`); mutations and subscriptions are the edge's own (ADR 0044). The end user is the
   * call's, as in every contract call: each resolver's contract call checks what they may see.
   */
  execute: unary(
    z.object({
      document: z.string().min(1).max(256_000),
      variablesJson: z.string().max(1_000_000),
      operationName: z.string().max(200),
    }),
    z.object({ resultJson: z.string() }),
    { idempotent: true, access: { services: ['edge'] } },
  ),
};

/** The contract through which a context's subgraph answers the gateway's planner (`subgraph.proto`). */
export type SubgraphContract = Contract<typeof SUBGRAPH_METHODS>;
export type SubgraphApi = ContractApi<SubgraphContract>;

const subgraphContracts = new Map<string, SubgraphContract>();

/**
 * The subgraph contract of `context`: `subgraph.proto`'s service under a name of the context's
 * own (`ficus.kernel.v1.CatalogSubgraphService`), routed and served like the context's contract
 * (same target, same callers, mutual TLS, the relayed end user), so one process may serve the
 * subgraphs of all the contexts it hosts.
 */
export function subgraphContractOf(context: string): SubgraphContract {
  const known = subgraphContracts.get(context);
  if (known) return known;
  const name = `ficus.kernel.v1.${context[0].toUpperCase()}${context.slice(1)}SubgraphService`;
  const contract = defineContract(context, name, SUBGRAPH_METHODS, {
    fullName: name,
    methods: { execute: SubgraphServiceDefinition.methods.execute },
  });
  subgraphContracts.set(context, contract);
  return contract;
}
