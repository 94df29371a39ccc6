import { mayActFor, notFound, permissionDenied, unauthenticated, type CallContext } from '@contracts/kernel';

/**
 * Ordering checks who may see and place which orders itself, from the end user the call carries
 * (verified from the relayed access token when the call crossed a process, ADR 0031), so a
 * request that reached ordering past the edge's checks still sees only its own orders. Every
 * method of these acts for an end user: a call without one is refused, wherever it comes from —
 * a process that drops the token gains nothing.
 */
export function actsForCustomer(ctx: CallContext, customerId: string): boolean {
  if (!ctx.caller) {
    throw unauthenticated('end-user-required', 'orders are placed and read on behalf of a signed-in customer');
  }
  return mayActFor(ctx, customerId);
}

/** Another customer's order answers exactly as a missing one, so ids cannot be probed. */
export function assertMayRead(ctx: CallContext, order: { id: string; customerId: string }): void {
  if (!actsForCustomer(ctx, order.customerId)) {
    throw notFound('order-not-found', `no order ${order.id}`, { orderId: order.id });
  }
}

/** Placing or listing orders for another customer is refused outright. */
export function assertActsFor(ctx: CallContext, customerId: string): void {
  if (!actsForCustomer(ctx, customerId)) {
    throw permissionDenied('not-this-customer', 'a customer may act only on their own orders');
  }
}
