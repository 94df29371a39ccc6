import { PaymentsSubgraphServiceDefinition } from '../generated/payments/payments';
import { defineSubgraph, FEDERATION_LINK, MONEY_TYPE, type SubgraphSdl } from '../kernel/subgraph';

/** Payments' subgraph: an order's payment, on ordering's `Order`. */
export const PaymentsSubgraph: SubgraphSdl = defineSubgraph(
  'payments',
  `${FEDERATION_LINK}
${MONEY_TYPE}

type Order @key(fields: "id") {
  id: ID!
  """The order's payment; null before payments has heard of the order."""
  payment: Payment
}

type OrderSummary @key(fields: "id") {
  id: ID!
  """As Order.payment: a page of orders has its payments read in one call."""
  payment: Payment
}

enum PaymentStatus {
  PENDING
  COMPLETED
  FAILED
}

type Payment {
  status: PaymentStatus!
  amount: Money!
  """The payment provider's reference of the charge, once charged."""
  providerReference: String
  failureReason: String
  """Set once a captured payment was refunded (its order failed after the charge)."""
  refundReference: String
  refundedAt: String
  updatedAt: String!
}
`,
  PaymentsSubgraphServiceDefinition,
);
