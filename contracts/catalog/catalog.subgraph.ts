import { CatalogSubgraphServiceDefinition } from '../generated/catalog/catalog';
import { defineSubgraph, FEDERATION_LINK, MONEY_TYPE, pageType, type SubgraphSdl } from '../kernel/subgraph';

/** Catalog's subgraph: the products, the entity every other context's `Product` joins by sku. */
export const CatalogSubgraph: SubgraphSdl = defineSubgraph(
  'catalog',
  `${FEDERATION_LINK}
${MONEY_TYPE}

"""A product of the catalogue."""
type Product @key(fields: "sku") {
  sku: ID!
  name: String!
  price: Money!
}

${pageType('ProductPage', 'Product')}

type Query {
  """A product by its sku (error code unknown-sku when there is none)."""
  product(sku: ID!): Product
  """A page of the catalogue (pageSize 1 to 100)."""
  products(page: Int! = 1, pageSize: Int! = 20): ProductPage!
}
`,
  CatalogSubgraphServiceDefinition,
);
