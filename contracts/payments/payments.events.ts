import { z } from 'zod';
import { event } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';
import { MoneySchema } from '../kernel/money';

export const PaymentCompleted = event(
  'payments.payment-completed',
  1,
  z.object({ orderId: IdSchema, amount: MoneySchema, providerReference: z.string() }),
  (p) => p.orderId,
);

export const PaymentFailed = event(
  'payments.payment-failed',
  1,
  z.object({ orderId: IdSchema, amount: MoneySchema, reason: z.string() }),
  (p) => p.orderId,
);
