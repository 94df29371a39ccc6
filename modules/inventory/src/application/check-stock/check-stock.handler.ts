import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { StockOnHand } from '../../domain/reservation';
import { StockRepository } from '../../persistence/stock.repository';
import { CheckStockQuery } from './check-stock.query';

@QueryHandler(CheckStockQuery)
export class CheckStockHandler implements IQueryHandler<CheckStockQuery, StockOnHand[]> {
  constructor(private readonly stock: StockRepository) {}

  async execute(query: CheckStockQuery): Promise<StockOnHand[]> {
    const unique = [...new Set(query.skus)];
    const found = new Map((await this.stock.levels(unique)).map((level) => [level.sku, level]));
    return unique.map((sku) => found.get(sku) ?? { sku, available: 0, reserved: 0 });
  }
}
