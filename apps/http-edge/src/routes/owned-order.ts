import { notFound, type CallContext } from '@contracts/kernel';
import type { OrderingApi, OrderView } from '@contracts/ordering';

/**
 * An order the caller may see: their own, or any to an admin. Another's id is not found, exactly
 * as an unknown one, so ids cannot be probed (REST and GraphQL alike).
 */
export async function ownedOrder(ordering: OrderingApi, ctx: CallContext, orderId: string): Promise<OrderView> {
  const order = await ordering.getOrder(ctx, { orderId });
  const caller = ctx.caller!;
  if (order.customerId !== caller.subject && !caller.roles.includes('admin')) {
    throw notFound('order-not-found', `no order ${orderId}`, { orderId });
  }
  return order;
}
