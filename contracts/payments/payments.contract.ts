import { z } from 'zod';
import { PaymentsServiceDefinition } from '../generated/payments/payments';
import { defineContract, unary, type ContractApi } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';
import { MoneySchema } from '../kernel/money';

export const PaymentViewSchema = z.object({
  orderId: IdSchema,
  status: z.enum(['PENDING', 'COMPLETED', 'FAILED']),
  amount: MoneySchema,
  providerReference: z.string().optional(),
  failureReason: z.string().optional(),
  /** Set once a captured payment was refunded (its order failed after the charge). */
  refundReference: z.string().optional(),
  refundedAt: z.iso.datetime({ offset: true }).optional(),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type PaymentView = z.infer<typeof PaymentViewSchema>;

export const PaymentsContract = defineContract('payments', 'payments.v1.PaymentsService', {
  getPayment: unary(z.object({ orderId: IdSchema }), PaymentViewSchema, { idempotent: true, access: { owner: true } }),
}, PaymentsServiceDefinition);

export type PaymentsApi = ContractApi<typeof PaymentsContract>;
export const PAYMENTS = PaymentsContract.token;
