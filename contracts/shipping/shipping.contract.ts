import { z } from 'zod';
import { ShippingServiceDefinition } from '../generated/shipping/shipping';
import { defineContract, unary, type ContractApi } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';

export const ShipmentViewSchema = z.object({
  shipmentId: IdSchema,
  orderId: IdSchema,
  trackingNumber: z.string(),
  /** CANCELLED: its order failed (the saga was given up) after the shipment was created. */
  status: z.enum(['CREATED', 'CANCELLED']),
  createdAt: z.iso.datetime({ offset: true }),
  cancelledAt: z.iso.datetime({ offset: true }).optional(),
});
export type ShipmentView = z.infer<typeof ShipmentViewSchema>;

export const ShippingContract = defineContract(
  'shipping',
  'shipping.v1.ShippingService',
  {
    getShipment: unary(z.object({ orderId: IdSchema }), ShipmentViewSchema, {
      idempotent: true,
      access: { owner: true },
      aggregate: { type: 'order', of: (r) => r.orderId },
    }),
    /**
     * The shipments of up to 100 orders in one call (a GraphQL page of orders with their
     * shipments): those the caller may see, in no particular order; another customer's is left
     * out as a missing one is.
     */
    getShipments: unary(
      z.object({ orderIds: z.array(IdSchema).min(1).max(100) }),
      z.object({ shipments: z.array(ShipmentViewSchema) }),
      { idempotent: true, access: { owner: true }, aggregate: { type: 'order', of: (r) => r.orderIds[0] } },
    ),
  },
  ShippingServiceDefinition,
);

export type ShippingApi = ContractApi<typeof ShippingContract>;
export const SHIPPING = ShippingContract.token;
