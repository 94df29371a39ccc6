import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { CallContext, RequestOf } from '@contracts/kernel';
import type { OrderingApi, OrderingContract, OrderView } from '@contracts/ordering';
import { traceIdOf } from '@infra/observability';
import { TIMELINE_STEP, type OrderEvent } from '../domain/order-events';
import { GetOrderQuery } from './get-order/get-order.query';
import { assertActsFor, assertMayRead } from './order-access';
import { ListCustomerOrdersQuery } from './list-customer-orders/list-customer-orders.query';
import { PlaceOrderCommand } from './place-order/place-order.command';
import { RebuildOrderHistoryCommand } from './rebuild-order-history/rebuild-order-history.command';

@Injectable()
export class OrderingContractAdapter implements OrderingApi {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** The released way, with the card token itself: served for callers of that release until none is left (ADR 0037). */
  async placeOrder(ctx: CallContext, request: RequestOf<typeof OrderingContract, 'placeOrder'>) {
    assertActsFor(ctx, request.customerId);
    const { paymentToken, ...order } = request;
    return this.commands.execute(new PlaceOrderCommand(ctx, { ...order, payment: { paymentToken } }));
  }

  async placeOrderWithPaymentMethod(
    ctx: CallContext,
    request: RequestOf<typeof OrderingContract, 'placeOrderWithPaymentMethod'>,
  ) {
    assertActsFor(ctx, request.customerId);
    const { paymentMethodId, paymentFingerprint, ...order } = request;
    return this.commands.execute(
      new PlaceOrderCommand(ctx, { ...order, payment: { paymentMethodId, fingerprint: paymentFingerprint } }),
    );
  }

  async getOrder(ctx: CallContext, request: { orderId: string }): Promise<OrderView> {
    const { order, history } = await this.queries.execute(new GetOrderQuery(request.orderId));
    assertMayRead(ctx, order);
    return {
      id: order.id,
      customerId: order.customerId,
      status: order.status,
      items: [...order.items],
      total: order.total,
      failureReason: order.failureReason,
      createdAt: order.createdAt,
      updatedAt: order.updatedAt,
      version: history.length,
    };
  }

  async getTimeline(ctx: CallContext, request: { orderId: string }) {
    const { order, history, sagaTraceparent } = await this.queries.execute(new GetOrderQuery(request.orderId));
    assertMayRead(ctx, order);
    return {
      orderId: order.id,
      status: order.status,
      traceId: traceIdOf(sagaTraceparent),
      // In the order the steps happened (facts from different contexts may arrive in another
      // order); steps at the same instant keep the order they were recorded in.
      steps: [...history]
        .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.version - b.version)
        .map(({ event, occurredAt }) => ({
          step: TIMELINE_STEP[event.type],
          at: occurredAt,
          detail: timelineDetail(event),
        })),
    };
  }

  async listCustomerOrders(ctx: CallContext, request: { customerId: string; page?: number; pageSize?: number }) {
    assertActsFor(ctx, request.customerId);
    return this.queries.execute(
      new ListCustomerOrdersQuery(request.customerId, request.page ?? 1, request.pageSize ?? 20),
    );
  }

  rebuildOrderHistory() {
    return this.commands.execute(new RebuildOrderHistoryCommand());
  }
}

/**
 * What a step shows beyond its name: never the order's and customer's ids (the page has them),
 * and of order-created its lines and total only, so neither a card token (v1, before migration
 * 303) nor a payment-method id is ever shown, whatever else that event comes to carry.
 */
function timelineDetail(event: OrderEvent): Record<string, unknown> {
  if (event.type === 'ordering.order-created') return { items: event.data.items, total: event.data.total };
  const { orderId: _orderId, customerId: _customerId, ...detail } = event.data as Record<string, unknown>;
  return detail;
}
