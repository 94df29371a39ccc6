import type { Money } from '@contracts/kernel';

/**
 * What happens to an order, as stored in its stream. Three of these are integration events that
 * leave the context (order-created, order-confirmed, order-failed, with the payloads of
 * contracts/ordering); the others record saga steps learned from other contexts and stay inside.
 */
export interface OrderLineData {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPrice: Money;
}

/**
 * How an order pays: a payment method that payments holds for its customer, or, from callers of
 * the released `placeOrder` until none is left, the card token itself (ADR 0037).
 */
export type OrderPayment = { readonly paymentMethodId: string } | { readonly paymentToken: string };

interface OrderCreatedData {
  orderId: string;
  customerId: string;
  items: OrderLineData[];
  total: Money;
}

/**
 * order-created is stored in the version of the integration event it is published as: v2 names
 * the payment method, v1 carried the token (gone from published v1 events, migration 303). Every
 * other event of a stream is stored as version 1.
 */
export type OrderEvent =
  | {
      readonly type: 'ordering.order-created';
      readonly version: 2;
      readonly data: OrderCreatedData & { paymentMethodId: string };
    }
  | {
      readonly type: 'ordering.order-created';
      readonly version: 1;
      readonly data: OrderCreatedData & { paymentToken?: string };
    }
  | { readonly type: 'ordering.stock-reserved'; readonly data: { orderId: string } }
  | { readonly type: 'ordering.stock-unavailable'; readonly data: { orderId: string; unavailableSkus: string[] } }
  | { readonly type: 'ordering.payment-completed'; readonly data: { orderId: string; providerReference: string } }
  | { readonly type: 'ordering.payment-failed'; readonly data: { orderId: string; reason: string } }
  | { readonly type: 'ordering.stock-released'; readonly data: { orderId: string } }
  | { readonly type: 'ordering.shipment-created'; readonly data: { orderId: string; trackingNumber: string } }
  | { readonly type: 'ordering.order-confirmed'; readonly data: { orderId: string; customerId: string; total: Money } }
  | { readonly type: 'ordering.order-failed'; readonly data: { orderId: string; customerId: string; reason: string } };

export type OrderEventType = OrderEvent['type'];

/** An event as it sits in the stream: its position and when its cause happened. */
export interface StoredOrderEvent {
  readonly event: OrderEvent;
  readonly version: number;
  readonly occurredAt: string;
}

/** Timeline names of the saga steps, as the API shows them. */
export const TIMELINE_STEP: Record<OrderEventType, string> = {
  'ordering.order-created': 'ORDER_CREATED',
  'ordering.stock-reserved': 'STOCK_RESERVED',
  'ordering.stock-unavailable': 'OUT_OF_STOCK',
  'ordering.payment-completed': 'PAYMENT_COMPLETED',
  'ordering.payment-failed': 'PAYMENT_FAILED',
  'ordering.stock-released': 'STOCK_RELEASED',
  'ordering.shipment-created': 'SHIPMENT_CREATED',
  'ordering.order-confirmed': 'ORDER_CONFIRMED',
  'ordering.order-failed': 'ORDER_FAILED',
};
