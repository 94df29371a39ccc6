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
