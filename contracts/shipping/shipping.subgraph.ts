import { ShippingSubgraphServiceDefinition } from '../generated/shipping/shipping';
import { defineSubgraph, FEDERATION_LINK, type SubgraphSdl } from '../kernel/subgraph';

/** Shipping's subgraph: an order's shipment, on ordering's `Order`. */
export const ShippingSubgraph: SubgraphSdl = defineSubgraph(
  'shipping',
  `${FEDERATION_LINK}

type Order @key(fields: "id") {
  id: ID!
  """The order's shipment; null until the order is confirmed, and for an order that failed before."""
  shipment: Shipment
}

type OrderSummary @key(fields: "id") {
  id: ID!
  """As Order.shipment: a page of orders has its shipments read in one call."""
  shipment: Shipment
}

enum ShipmentStatus {
  CREATED
  """Its order failed (the saga was given up) after the shipment was created."""
  CANCELLED
}

type Shipment {
  trackingNumber: String!
  status: ShipmentStatus!
  createdAt: String!
  cancelledAt: String
}
`,
  ShippingSubgraphServiceDefinition,
);
