import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { CallContext } from '@contracts/kernel';
import type { OrderingApi, OrderView } from '@contracts/ordering';
import { traceIdOf } from '@infra/observability';
import { TIMELINE_STEP } from '../domain/order-events';
import { GetOrderQuery } from './get-order/get-order.query';
import { assertActsFor, assertMayRead } from './order-access';
import { ListCustomerOrdersQuery } from './list-customer-orders/list-customer-orders.query';
import { PlaceOrderCommand, type PlaceOrderInput } from './place-order/place-order.command';
import { RebuildOrderHistoryCommand } from './rebuild-order-history/rebuild-order-history.command';

@Injectable()
export class OrderingContractAdapter implements OrderingApi {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  async placeOrder(ctx: CallContext, request: PlaceOrderInput) {
    assertActsFor(ctx, request.customerId);
    return this.commands.execute(new PlaceOrderCommand(ctx, request));
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
        .map(({ event, occurredAt }) => {
          const { orderId: _orderId, customerId: _customerId, paymentToken: _token, ...detail } = event.data as Record<string, unknown>;
          return { step: TIMELINE_STEP[event.type], at: occurredAt, detail };
        }),
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
