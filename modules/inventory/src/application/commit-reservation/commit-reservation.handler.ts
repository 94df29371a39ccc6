import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UnitOfWork } from '@infra/persistence';
import { planCommit } from '../../domain/reservation';
import { StockRepository } from '../../persistence/stock.repository';
import { StockChanges } from '../stock-changes';
import { CommitReservationCommand } from './commit-reservation.command';

@CommandHandler(CommitReservationCommand)
export class CommitReservationHandler implements ICommandHandler<CommitReservationCommand, { committed: boolean }> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly stock: StockRepository,
    private readonly changes: StockChanges,
  ) {}

  async execute(command: CommitReservationCommand): Promise<{ committed: boolean }> {
    const changed = await this.uow.transaction(async () => {
      const reservation = await this.stock.findReservation(command.orderId, { lock: true });
      if (reservation?.status !== 'RESERVED') return undefined;
      const onHand = await this.stock.lockLevels(reservation.lines.map((line) => line.sku));
      const levels = planCommit(reservation.lines, onHand);
      await this.stock.save(levels);
      await this.stock.markCommitted(command.orderId);
      return levels;
    });
    if (changed) this.changes.announce(changed);
    return { committed: changed !== undefined };
  }
}
