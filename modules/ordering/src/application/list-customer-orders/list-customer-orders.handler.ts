import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { OrderHistoryProjection, type OrderHistoryRow } from '../../persistence/order-history.projection';
import { ListCustomerOrdersQuery } from './list-customer-orders.query';

/** Reads the order-history read model, never the event streams. */
@QueryHandler(ListCustomerOrdersQuery)
export class ListCustomerOrdersHandler implements IQueryHandler<
  ListCustomerOrdersQuery,
  { items: OrderHistoryRow[]; total: number }
> {
  constructor(private readonly history: OrderHistoryProjection) {}

  execute(query: ListCustomerOrdersQuery) {
    return this.history.forCustomer(query.customerId, query.page, query.pageSize);
  }
}
