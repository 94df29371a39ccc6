import { z } from 'zod';
import { defineContract, unary, type Contract, type ContractApi, type WireMethod } from './contract';

/**
 * A context's GraphQL subgraph as its contract declares it: the SDL only (Federation v2). It is a
 * contract like the `.proto` and the event schemas: what the supergraph composes, and what
 * `contracts:check` will compare with the released one. Its resolvers live with whoever serves it.
 */
export interface SubgraphSdl {
  /** The context: the subgraph's name in the supergraph. */
  readonly name: string;
  readonly typeDefs: string;
  /**
   * How the gateway's planner asks it when the context runs in another process: the service its
   * context's .proto declares for it (`catalog.v1.CatalogSubgraphService/Execute`).
   */
  readonly contract: SubgraphContract;
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

/**
 * A context's subgraph: its SDL, and its subgraph contract over the service its .proto declares
 * for it (generated: `CatalogSubgraphServiceDefinition`), routed and served like the context's
 * own contract (same target, same callers, mutual TLS, the relayed end user).
 */
export function defineSubgraph(
  name: string,
  typeDefs: string,
  wire: { readonly fullName: string; readonly methods: { readonly execute: WireMethod } },
): SubgraphSdl {
  return { name, typeDefs, contract: defineContract(name, wire.fullName, SUBGRAPH_METHODS, wire) };
}
