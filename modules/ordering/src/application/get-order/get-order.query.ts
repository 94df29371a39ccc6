import { Query } from '@nestjs/cqrs';
import type { Order } from '../../domain/order';
import type { StoredOrderEvent } from '../../domain/order-events';

export interface OrderWithHistory {
  readonly order: Order;
  readonly history: StoredOrderEvent[];
}

/** The order rebuilt from its stream, with the stream itself (the saga timeline). */
export class GetOrderQuery extends Query<OrderWithHistory> {
  constructor(readonly orderId: string) {
    super();
  }
}
