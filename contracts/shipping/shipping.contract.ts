import { z } from 'zod';
import { ShippingServiceDefinition } from '../generated/shipping/shipping';
import { defineContract, unary, type ContractApi } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';

export const ShipmentViewSchema = z.object({
  shipmentId: IdSchema,
  orderId: IdSchema,
  trackingNumber: z.string(),
  status: z.enum(['CREATED']),
  createdAt: z.iso.datetime({ offset: true }),
});
export type ShipmentView = z.infer<typeof ShipmentViewSchema>;

export const ShippingContract = defineContract('shipping', 'shipping.v1.ShippingService', {
  getShipment: unary(z.object({ orderId: IdSchema }), ShipmentViewSchema, { idempotent: true }),
}, ShippingServiceDefinition);

export type ShippingApi = ContractApi<typeof ShippingContract>;
export const SHIPPING = ShippingContract.token;
