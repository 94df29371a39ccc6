import { Query } from '@nestjs/cqrs';
import type { StockOnHand } from '../../domain/reservation';

/** Stock of the given skus; a sku inventory has never seen has none. */
export class CheckStockQuery extends Query<StockOnHand[]> {
  constructor(readonly skus: readonly string[]) {
    super();
  }
}
