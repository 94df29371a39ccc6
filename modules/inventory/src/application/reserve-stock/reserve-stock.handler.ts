import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { StockReservationFailed, StockReserved } from '@contracts/inventory';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import { mergeLines, planReservation } from '../../domain/reservation';
import { StockRepository } from '../../persistence/stock.repository';
import { StockChanges } from '../stock-changes';
import { ReserveStockCommand, type ReservationResult } from './reserve-stock.command';

/**
 * Reserves an order's stock, all or nothing, once per order id: a second request for the same
 * order changes nothing and answers whether the order holds its stock now (reserved by the first,
 * and not given back since). An order that failed before its stock was reserved (marked
 * CANCELLED) is never reserved.
 */
@CommandHandler(ReserveStockCommand)
export class ReserveStockHandler implements ICommandHandler<ReserveStockCommand, ReservationResult> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly stock: StockRepository,
    private readonly outbox: Outbox,
    private readonly changes: StockChanges,
  ) {}

  async execute(command: ReserveStockCommand): Promise<ReservationResult> {
    const lines = mergeLines(command.lines);
    const { result, changed } = await this.uow.transaction(async () => {
      // Claim and row locks are sent together (ADR 0036); a second request for the order takes the
      // locks for nothing and answers from the first claim.
      const [claimed, onHand] = await Promise.all([
        this.stock.claimReservation(command.orderId, lines),
        this.stock.lockLevels(lines.map((line) => line.sku)),
      ]);
      if (!claimed) {
        // Answers what was decided first, as it stands now: stock still held for the order (reserved,
        // or committed to it) says reserved; rejected, cancelled before reserving, or given back
        // since (the order failed) says not, so that a repeated request never leads to a charge.
        const earlier = await this.stock.findReservation(command.orderId);
        return {
          result: {
            reserved: earlier?.status === 'RESERVED' || earlier?.status === 'COMMITTED',
            unavailableSkus: earlier?.unavailableSkus ?? [],
          },
          changed: [],
        };
      }
      const plan = planReservation(lines, onHand);
      if (plan.kind === 'reject') {
        await this.stock.markRejected(command.orderId, plan.unavailableSkus);
        await this.outbox.add(
          StockReservationFailed.create(
            { orderId: command.orderId, unavailableSkus: [...plan.unavailableSkus] },
            command.origin,
          ),
        );
        return { result: { reserved: false, unavailableSkus: [...plan.unavailableSkus] }, changed: [] };
      }
      await this.stock.save(plan.levels);
      await this.outbox.add(StockReserved.create({ orderId: command.orderId, items: lines }, command.origin));
      return { result: { reserved: true, unavailableSkus: [] }, changed: plan.levels };
    });
    this.changes.announce(changed);
    return result;
  }
}
