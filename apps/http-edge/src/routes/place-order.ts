import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { CallContext } from '@contracts/kernel';
import {
  ORDER_LINES,
  ORDERING,
  PlaceOrderRequestSchema,
  type OrderingApi,
  type OrderStatus,
} from '@contracts/ordering';
import { PAYMENTS, type PaymentsApi } from '@contracts/payments';
import { problem, ProblemError } from '../problem/problem';

const { items, paymentToken } = PlaceOrderRequestSchema.shape;

/**
 * An order as a client places it (`POST /orders`, GraphQL's `placeOrder`): the contract's lines and
 * payment token, every limit the contract's own; strict at every level (an unknown field, also in
 * a line, is refused, not dropped).
 */
export const PlaceOrderBody = z.strictObject({
  items: z.array(z.strictObject(items.element.shape)).min(ORDER_LINES.min).max(ORDER_LINES.max),
  paymentToken,
});
export type OrderToPlace = z.output<typeof PlaceOrderBody>;

/** The idempotency key (REST's `Idempotency-Key` header): the contract's key, in what a header may carry. */
export const IdempotencyKey = PlaceOrderRequestSchema.shape.idempotencyKey
  .unwrap()
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export function parseIdempotencyKey(value: string): string {
  const result = IdempotencyKey.safeParse(value);
  if (!result.success) {
    throw new ProblemError(
      problem(400, 'invalid-idempotency-key', 'Idempotency-Key is 1–200 printable ASCII characters'),
    );
  }
  return result.data;
}

export interface PlacedOrder {
  readonly orderId: string;
  readonly status: OrderStatus;
  readonly replayed: boolean;
}

/**
 * Places the signed-in caller's order, the same way whichever API it came by (`POST /orders`,
 * GraphQL's `placeOrder`).
 */
@Injectable()
export class OrderPlacement {
  constructor(
    @Inject(PAYMENTS) private readonly payments: PaymentsApi,
    @Inject(ORDERING) private readonly ordering: OrderingApi,
  ) {}

  async place(ctx: CallContext, order: OrderToPlace, idempotencyKey: string | undefined): Promise<PlacedOrder> {
    // The card token goes to payments and nowhere else; ordering and its events see only the id
    // of the payment method payments holds for it (ADR 0037).
    const held = await this.payments.holdPaymentMethod(ctx, { token: order.paymentToken });
    const { orderId, replayed } = await this.ordering.placeOrderWithPaymentMethod(ctx, {
      customerId: ctx.caller!.subject,
      items: order.items,
      paymentMethodId: held.paymentMethodId,
      paymentFingerprint: held.fingerprint,
      idempotencyKey,
    });
    // A replay answers as the order stands now; a new order has only just started its saga.
    const status = replayed ? (await this.ordering.getOrder(ctx, { orderId })).status : 'PENDING';
    return { orderId, status, replayed };
  }
}
