import { z } from 'zod';
import { event } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';

export const ShipmentCreated = event(
  'shipping.shipment-created',
  1,
  z.object({ orderId: IdSchema, shipmentId: IdSchema, trackingNumber: z.string() }),
  (p) => p.orderId,
  'order',
);
