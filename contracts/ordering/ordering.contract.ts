import { z } from 'zod';
import { OrderingServiceDefinition } from '../generated/ordering/ordering';
import { defineContract, unary, type ContractApi } from '../kernel/contract';
import { IdSchema, SkuSchema } from '../kernel/ids';
import { MoneySchema } from '../kernel/money';

export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'FAILED'] as const;
export const OrderStatusSchema = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatusSchema>;

export const OrderLineSchema = z.object({
  sku: SkuSchema,
  quantity: z.number().int().positive().max(1_000),
  unitPrice: MoneySchema,
});
export type OrderLine = z.infer<typeof OrderLineSchema>;

export const OrderViewSchema = z.object({
  id: IdSchema,
  customerId: z.string(),
  status: OrderStatusSchema,
  items: z.array(OrderLineSchema),
  total: MoneySchema,
  failureReason: z.string().optional(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  version: z.number().int(),
});
export type OrderView = z.infer<typeof OrderViewSchema>;

export const TimelineStepSchema = z.object({
  step: z.string(),
  at: z.iso.datetime({ offset: true }),
  detail: z.record(z.string(), z.unknown()).optional(),
});

export const OrderSummarySchema = z.object({
  orderId: IdSchema,
  status: OrderStatusSchema,
  total: MoneySchema,
  itemCount: z.number().int(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type OrderSummary = z.infer<typeof OrderSummarySchema>;

/** How many lines an order has; the edge's request body says the same by reading this. */
export const ORDER_LINES = { min: 1, max: 50 } as const;

export const PlaceOrderRequestSchema = z.object({
  customerId: z.string().min(1),
  items: z
    .array(z.object({ sku: SkuSchema, quantity: z.number().int().positive().max(1_000) }))
    .min(ORDER_LINES.min)
    .max(ORDER_LINES.max),
  paymentToken: z.string().min(1).max(200),
  idempotencyKey: z.string().min(1).max(200).optional(),
});

/** The order as `placeOrderWithPaymentMethod` takes it: a payment method payments holds, never a card token. */
export const PlaceOrderWithPaymentMethodRequestSchema = PlaceOrderRequestSchema.omit({ paymentToken: true }).extend({
  /** What payments.holdPaymentMethod answered for the customer's card token. */
  paymentMethodId: IdSchema,
  /** That answer's fingerprint: with an idempotency key, a retry with the same card is the same request. */
  paymentFingerprint: z.string().min(1).max(100).optional(),
});

export const OrderingContract = defineContract(
  'ordering',
  'ordering.v1.OrderingService',
  {
    placeOrder: unary(PlaceOrderRequestSchema, z.object({ orderId: IdSchema, replayed: z.boolean() }), {
      idempotent: false,
      access: { owner: true },
      aggregate: { type: 'customer', of: (r) => r.customerId },
    }),
    /**
     * Places an order paid with a payment method that payments holds: no card token reaches ordering
     * nor its events. `placeOrder` above carries the token itself; it is served for callers of the
     * release before this one only, until none is left (ADR 0037).
     */
    placeOrderWithPaymentMethod: unary(
      PlaceOrderWithPaymentMethodRequestSchema,
      z.object({ orderId: IdSchema, replayed: z.boolean() }),
      { idempotent: false, access: { owner: true }, aggregate: { type: 'customer', of: (r) => r.customerId } },
    ),
    getOrder: unary(z.object({ orderId: IdSchema }), OrderViewSchema, {
      idempotent: true,
      access: { owner: true },
      aggregate: { type: 'order', of: (r) => r.orderId },
    }),
    getTimeline: unary(
      z.object({ orderId: IdSchema }),
      z.object({
        orderId: IdSchema,
        status: OrderStatusSchema,
        steps: z.array(TimelineStepSchema),
        /** The trace of the order's saga (W3C trace id), to look it up in the tracing backend. */
        traceId: z
          .string()
          .regex(/^[\da-f]{32}$/)
          .optional(),
      }),
      { idempotent: true, access: { owner: true }, aggregate: { type: 'order', of: (r) => r.orderId } },
    ),
    listCustomerOrders: unary(
      z.object({
        customerId: z.string().min(1),
        page: z.number().int().min(1).default(1),
        pageSize: z.number().int().min(1).max(100).default(20),
      }),
      z.object({ items: z.array(OrderSummarySchema), total: z.number().int() }),
      { idempotent: true, access: { owner: true }, aggregate: { type: 'customer', of: (r) => r.customerId } },
    ),
    rebuildOrderHistory: unary(z.object({}), z.object({ ordersProjected: z.number().int() }), {
      idempotent: true,
      access: { roles: ['admin'] },
    }),
  },
  OrderingServiceDefinition,
);

export type OrderingApi = ContractApi<typeof OrderingContract>;
export const ORDERING = OrderingContract.token;
