import { z } from 'zod';
import { event } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';
import { MoneySchema } from '../kernel/money';

export const PaymentCompleted = event(
  'payments.payment-completed',
  1,
  z.object({
    orderId: IdSchema,
    /** Whose order it paid, so that shipping shows its shipment to them alone; absent from older events. */
    customerId: z.string().optional(),
    amount: MoneySchema,
    providerReference: z.string(),
  }),
  (p) => p.orderId,
  'order',
);

export const PaymentFailed = event(
  'payments.payment-failed',
  1,
  z.object({ orderId: IdSchema, amount: MoneySchema, reason: z.string() }),
  (p) => p.orderId,
  'order',
);

/**
 * A captured payment was given back, because its order failed after it was charged (a saga given
 * up at its deadline). `providerReference` is the charge's, `refundReference` the refund's.
 */
export const PaymentRefunded = event(
  'payments.payment-refunded',
  1,
  z.object({
    orderId: IdSchema,
    amount: MoneySchema,
    providerReference: z.string(),
    refundReference: z.string(),
    reason: z.string(),
  }),
  (p) => p.orderId,
  'order',
);
