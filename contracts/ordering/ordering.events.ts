import { z } from 'zod';
import { event } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';
import { MoneySchema } from '../kernel/money';
import { OrderLineSchema } from './ordering.contract';

export const OrderCreated = event(
  'ordering.order-created',
  1,
  z.object({
    orderId: IdSchema,
    customerId: z.string(),
    items: z.array(OrderLineSchema),
    total: MoneySchema,
    /** An opaque token of the payment provider, never card data. */
    paymentToken: z.string(),
  }),
  (p) => p.orderId,
);

export const OrderConfirmed = event(
  'ordering.order-confirmed',
  1,
  z.object({ orderId: IdSchema, customerId: z.string(), total: MoneySchema }),
  (p) => p.orderId,
);

export const OrderFailed = event(
  'ordering.order-failed',
  1,
  z.object({ orderId: IdSchema, customerId: z.string(), reason: z.string() }),
  (p) => p.orderId,
);
