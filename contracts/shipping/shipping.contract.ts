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
  },
  ShippingServiceDefinition,
);

export type ShippingApi = ContractApi<typeof ShippingContract>;
export const SHIPPING = ShippingContract.token;
