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

/** A card token of the payment provider, handed to payments alone (ADR 0037). */
export const HoldPaymentMethodRequestSchema = z.object({
  token: z.string().min(1).max(200),
  /** Whose card it is: the caller's own unless omitted; only an admin holds one for another customer. */
  customerId: z.string().min(1).optional(),
});

export const HeldPaymentMethodSchema = z.object({
  /** Pays for one order of that customer; the token itself never comes back. */
  paymentMethodId: IdSchema,
  /** The same for the same token of the same customer, and nothing else: tells a retried order from another. */
  fingerprint: z.string().min(1).max(100),
});

export const PaymentsContract = defineContract(
  'payments',
  'payments.v1.PaymentsService',
  {
    getPayment: unary(z.object({ orderId: IdSchema }), PaymentViewSchema, {
      idempotent: true,
      access: { owner: true },
      aggregate: { type: 'order', of: (r) => r.orderId },
    }),
    /**
     * The payments of up to 100 orders in one call (a GraphQL page of orders with their payments):
     * those the caller may see and payments has priced, in no particular order; another customer's
     * is left out as a missing one is.
     */
    getPayments: unary(
      z.object({ orderIds: z.array(IdSchema).min(1).max(100) }),
      z.object({ payments: z.array(PaymentViewSchema) }),
      { idempotent: true, access: { owner: true }, aggregate: { type: 'order', of: (r) => r.orderIds[0] } },
    ),
    /**
     * Keeps a card token sealed in payments' vault and answers an id for it (each call a new one).
     * The end user's own card; an admin's for anyone (customer-access.ts).
     */
    holdPaymentMethod: unary(HoldPaymentMethodRequestSchema, HeldPaymentMethodSchema, {
      idempotent: false,
      access: { owner: true },
      aggregate: { type: 'customer', of: (r) => r.customerId },
    }),
  },
  PaymentsServiceDefinition,
);

export type PaymentsApi = ContractApi<typeof PaymentsContract>;
export const PAYMENTS = PaymentsContract.token;
