import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UnitOfWork } from '@infra/persistence';
import type { StockOnHand } from '../../domain/reservation';
import { StockRepository } from '../../persistence/stock.repository';
import { StockChanges } from '../stock-changes';
import { RestockCommand } from './restock.command';

@CommandHandler(RestockCommand)
export class RestockHandler implements ICommandHandler<RestockCommand, StockOnHand> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly stock: StockRepository,
    private readonly changes: StockChanges,
  ) {}

  async execute(command: RestockCommand): Promise<StockOnHand> {
    const level = await this.uow.transaction(() => this.stock.addAvailable(command.sku, command.quantity));
    this.changes.announce([level]);
    return level;
  }
}
