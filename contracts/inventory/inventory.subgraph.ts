import { InventorySubgraphServiceDefinition } from '../generated/inventory/inventory';
import { defineSubgraph, FEDERATION_LINK, type SubgraphSdl } from '../kernel/subgraph';

/** Inventory's subgraph: a product's stock, on catalog's `Product`. */
export const InventorySubgraph: SubgraphSdl = defineSubgraph(
  'inventory',
  `${FEDERATION_LINK}

type Product @key(fields: "sku") {
  sku: ID!
  """What can be ordered now (on hand less what orders hold)."""
  stock: Stock!
}

type Stock {
  available: Int!
}
`,
  InventorySubgraphServiceDefinition,
);
