import { Query } from '@nestjs/cqrs';
import type { OrderHistoryRow } from '../../persistence/order-history.projection';

export class ListCustomerOrdersQuery extends Query<{ items: OrderHistoryRow[]; total: number }> {
  constructor(
    readonly customerId: string,
    readonly page: number,
    readonly pageSize: number,
  ) {
    super();
  }
}
