import { FEDERATION_LINK, MONEY_TYPE, pageType, type SubgraphSdl } from '../kernel/subgraph';
import { ORDER_STATUSES } from './ordering.contract';

/**
 * Ordering's subgraph: a customer's orders, signed in. Another customer's order is not found, as
 * on the REST edge. A line's `product` is catalog's entity, joined by sku.
 */
export const OrderingSubgraph: SubgraphSdl = {
  name: 'ordering',
  typeDefs: `${FEDERATION_LINK}
${MONEY_TYPE}

type Product @key(fields: "sku", resolvable: false) {
  sku: ID!
}

enum OrderStatus {
  ${ORDER_STATUSES.join('\n  ')}
}

type OrderLine {
  sku: ID!
  quantity: Int!
  unitPrice: Money!
  product: Product!
}

type Order @key(fields: "id") {
  id: ID!
  status: OrderStatus!
  lines: [OrderLine!]!
  total: Money!
  """Why the saga failed the order, when it did."""
  failureReason: String
  createdAt: String!
  updatedAt: String!
}

"""An order as a list shows it; ask order(id) for its lines."""
type OrderSummary {
  id: ID!
  status: OrderStatus!
  total: Money!
  itemCount: Int!
  createdAt: String!
}

${pageType('OrderPage', 'OrderSummary')}

type Query {
  """One of the signed-in customer's orders (error code order-not-found for any other id)."""
  order(id: ID!): Order
  """The signed-in customer's orders, newest first (pageSize 1 to 100)."""
  myOrders(page: Int! = 1, pageSize: Int! = 20): OrderPage!
}
`,
};
