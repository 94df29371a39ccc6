import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StockReleased } from '@contracts/inventory';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import { planRelease } from '../../domain/reservation';
import { StockRepository } from '../../persistence/stock.repository';
import { StockChanges } from '../stock-changes';
import { ReleaseStockCommand } from './release-stock.command';

/** The saga's compensation: gives an order's reserved stock back, once; announces it only when it did. */
@CommandHandler(ReleaseStockCommand)
export class ReleaseStockHandler implements ICommandHandler<ReleaseStockCommand, { released: boolean }> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly stock: StockRepository,
    private readonly outbox: Outbox,
    private readonly changes: StockChanges,
  ) {}

  async execute(command: ReleaseStockCommand): Promise<{ released: boolean }> {
    const changed = await this.uow.transaction(async () => {
      let reservation = await this.stock.findReservation(command.orderId, { lock: true });
      if (!reservation && command.options.orderCancelled) {
        if (await this.stock.claimCancelled(command.orderId)) {
          return undefined; // nothing reserved, and now nothing ever will be
        }
        // A reservation made at the same moment claimed the order first: release that one.
        reservation = await this.stock.findReservation(command.orderId, { lock: true });
      }
      if (reservation?.status !== 'RESERVED') {
        return undefined;
      }
      const onHand = await this.stock.lockLevels(reservation.lines.map((line) => line.sku));
      const levels = planRelease(reservation.lines, onHand);
      await this.stock.save(levels);
      await this.stock.markReleased(command.orderId);
      await this.outbox.add(
        StockReleased.create(
          { orderId: command.orderId, items: reservation.lines, reason: command.reason },
          command.origin,
        ),
      );
      return levels;
    });
    if (changed) this.changes.announce(changed);
    return { released: changed !== undefined };
  }
}
