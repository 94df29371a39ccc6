import { z } from 'zod';
import { event } from '../kernel/contract';
import { IdSchema } from '../kernel/ids';
import { MoneySchema } from '../kernel/money';
import { OrderLineSchema } from './ordering.contract';

/**
 * What every version of OrderCreated says of the order; the versions differ in how it pays. A
 * change here changes the released versions too: `npm run contracts:check` holds them to what was
 * released.
 */
const OrderCreatedFacts = z.object({
  orderId: IdSchema,
  customerId: z.string(),
  items: z.array(OrderLineSchema),
  total: MoneySchema,
});

/**
 * v1 carries the card token itself, to every consumer and over Kafka. No longer published by
 * orders placed through `placeOrderWithPaymentMethod`; consumed still for what an outbox or a
 * topic held at the upgrade, and published for callers of the released `placeOrder` (ADR 0037).
 */
export const OrderCreated = event(
  'ordering.order-created',
  1,
  OrderCreatedFacts.extend({
    /** An opaque token of the payment provider, never card data. */
    paymentToken: z.string(),
  }),
  (p) => p.orderId,
  'order',
);

/** v2: the order pays with a payment method payments holds for its customer; no card token travels. */
export const OrderCreatedV2 = event(
  'ordering.order-created',
  2,
  OrderCreatedFacts.extend({
    /** payments.holdPaymentMethod's id: it pays for this order of this customer only. */
    paymentMethodId: IdSchema,
  }),
  (p) => p.orderId,
  'order',
);

export const OrderConfirmed = event(
  'ordering.order-confirmed',
  1,
  z.object({ orderId: IdSchema, customerId: z.string(), total: MoneySchema }),
  (p) => p.orderId,
  'order',
);

export const OrderFailed = event(
  'ordering.order-failed',
  1,
  z.object({ orderId: IdSchema, customerId: z.string(), reason: z.string() }),
  (p) => p.orderId,
  'order',
);
