import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { notFound } from '@contracts/kernel';
import { Order } from '../../domain/order';
import { OrderEventStore } from '../../persistence/order-event-store';
import { GetOrderQuery, type OrderWithHistory } from './get-order.query';

@QueryHandler(GetOrderQuery)
export class GetOrderHandler implements IQueryHandler<GetOrderQuery, OrderWithHistory> {
  constructor(private readonly store: OrderEventStore) {}

  async execute(query: GetOrderQuery): Promise<OrderWithHistory> {
    const history = await this.store.history(query.orderId);
    if (history.length === 0) {
      throw notFound('order-not-found', `no order ${query.orderId}`, { orderId: query.orderId });
    }
    const { traceparent } = await this.store.sagaOrigin(query.orderId);
    return { order: Order.fromHistory(history), history, sagaTraceparent: traceparent };
  }
}
