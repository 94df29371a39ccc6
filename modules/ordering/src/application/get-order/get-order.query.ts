import { Query } from '@nestjs/cqrs';
import type { Order } from '../../domain/order';
import type { StoredOrderEvent } from '../../domain/order-events';

export interface OrderWithHistory {
  readonly order: Order;
  readonly history: StoredOrderEvent[];
  /** Where the order's saga started, as a W3C traceparent (absent when nothing traced it). */
  readonly sagaTraceparent?: string;
}

/** The order rebuilt from its stream, with the stream itself (the saga timeline). */
export class GetOrderQuery extends Query<OrderWithHistory> {
  constructor(readonly orderId: string) {
    super();
  }
}
