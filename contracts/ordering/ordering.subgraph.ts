import { OrderingSubgraphServiceDefinition } from '../generated/ordering/ordering';
import { defineSubgraph, FEDERATION_LINK, MONEY_TYPE, pageType, type SubgraphSdl } from '../kernel/subgraph';
import { ORDER_STATUSES } from './ordering.contract';

/**
 * Ordering's subgraph: a customer's orders, signed in. Another customer's order is not found, as
 * on the REST edge. A line's `product` is catalog's entity, joined by sku.
 */
export const OrderingSubgraph: SubgraphSdl = defineSubgraph(
  'ordering',
  `${FEDERATION_LINK}
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
  """Catalog's product; null (with an error) when catalog cannot answer or no longer has it."""
  product: Product
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
  """Its saga's steps so far, oldest first (as GET /orders/{id}/timeline)."""
  timeline: [SagaStep!]!
}

"""A step of an order's saga: what happened (ORDER_CREATED, PAYMENT_COMPLETED, …) and when."""
type SagaStep {
  step: String!
  at: String!
}

"""An order as a list shows it; ask order(id) for its lines."""
type OrderSummary @key(fields: "id") {
  id: ID!
  status: OrderStatus!
  total: Money!
  itemCount: Int!
  createdAt: String!
}

${pageType('OrderPage', 'OrderSummary')}

"""Identity's customer, with their orders."""
type Customer @key(fields: "id") {
  id: ID!
  """The customer's orders, newest first (pageSize 1 to 100), as myOrders."""
  orders(page: Int! = 1, pageSize: Int! = 20): OrderPage!
}

input OrderLineInput {
  sku: ID!
  quantity: Int!
}

"""An order to place: its lines and the payment provider's card token (it goes to payments only)."""
input PlaceOrderInput {
  items: [OrderLineInput!]!
  paymentToken: String!
}

type PlacedOrder {
  orderId: ID!
  """PENDING for a new order (its saga has just started); a replay's status as it stands now."""
  status: OrderStatus!
  """True when the idempotency key was seen before: the answer is that first order."""
  replayed: Boolean!
  """The order, read again: null (with an error) if it cannot be read now; the order was placed all the same."""
  order: Order
}

type Mutation {
  """
  Places an order for the signed-in customer, as POST /orders does: the same limits and error
  codes, and the same idempotency key (1 to 200 printable ASCII characters), kept 24 hours.
  """
  placeOrder(input: PlaceOrderInput!, idempotencyKey: String): PlacedOrder!
}

type Query {
  """One of the signed-in customer's orders (error code order-not-found for any other id)."""
  order(id: ID!): Order
  """The signed-in customer's orders, newest first (pageSize 1 to 100)."""
  myOrders(page: Int! = 1, pageSize: Int! = 20): OrderPage!
}

type Subscription {
  """
  One of the signed-in customer's orders as its saga moves: the order as it stands at once, then
  again each time it has moved, until it is CONFIRMED or FAILED (the stream then completes). Served as
  server-sent events (Accept: text/event-stream); a stream lasts at most until the access token
  expires, and each caller may hold only a few at once (docs/graphql.md).
  """
  orderUpdated(id: ID!): Order!
}
`,
  OrderingSubgraphServiceDefinition,
);
