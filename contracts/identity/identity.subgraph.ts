import { IdentitySubgraphServiceDefinition } from '../generated/identity/identity';
import { defineSubgraph, FEDERATION_LINK, type SubgraphSdl } from '../kernel/subgraph';

/**
 * Identity's subgraph: the signed-in customer, the entity other contexts add their parts to
 * (ordering the customer's orders, notifications what the shop sent them), joined by id.
 */
export const IdentitySubgraph: SubgraphSdl = defineSubgraph(
  'identity',
  `${FEDERATION_LINK}

"""A customer of the shop."""
type Customer @key(fields: "id") {
  id: ID!
}

type Query {
  """The signed-in customer (error code missing-token without a Bearer token)."""
  me: Customer
}
`,
  IdentitySubgraphServiceDefinition,
);
