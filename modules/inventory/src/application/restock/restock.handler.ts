import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { failedPrecondition } from '@contracts/kernel';
import { UnitOfWork } from '@infra/persistence';
import type { StockOnHand } from '../../domain/reservation';
import { MAX_ON_HAND, StockRepository } from '../../persistence/stock.repository';
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
    if (!level) {
      throw failedPrecondition(
        'stock-limit',
        `${command.sku} cannot hold ${command.quantity} more: a SKU holds at most ${MAX_ON_HAND} units`,
        { sku: command.sku, maxOnHand: MAX_ON_HAND },
      );
    }
    this.changes.announce([level]);
    return level;
  }
}
