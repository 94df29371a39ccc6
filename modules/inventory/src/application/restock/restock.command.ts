import { Command } from '@nestjs/cqrs';
import type { StockOnHand } from '../../domain/reservation';

export class RestockCommand extends Command<StockOnHand> {
  constructor(
    readonly sku: string,
    readonly quantity: number,
  ) {
    super();
  }
}
