import { z } from 'zod';
import { event } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';
import { StockLineSchema } from './inventory.contract';

export const StockReserved = event(
  'inventory.stock-reserved',
  1,
  z.object({ orderId: IdSchema, items: z.array(StockLineSchema) }),
  (p) => p.orderId,
  'order',
);

export const StockReservationFailed = event(
  'inventory.stock-reservation-failed',
  1,
  z.object({ orderId: IdSchema, unavailableSkus: z.array(z.string()) }),
  (p) => p.orderId,
  'order',
);

export const StockReleased = event(
  'inventory.stock-released',
  1,
  z.object({ orderId: IdSchema, items: z.array(StockLineSchema), reason: z.string() }),
  (p) => p.orderId,
  'order',
);
