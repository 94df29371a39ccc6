import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UnitOfWork } from '@infra/persistence';
import { OrderEventStore } from '../../persistence/order-event-store';
import { OrderHistoryProjection } from '../../persistence/order-history.projection';
import { ExpireOverdueOrdersCommand } from './expire-overdue-orders.command';

/**
 * Fails the orders whose saga ran past its deadline, each through the aggregate and in a
 * transaction of its own, appended like any saga step: under the stream's lock and at the version
 * it loaded. The lock is only tried: an order whose stream is busy (a saga step is being recorded,
 * or another replica is expiring it) is left to the next sweep, when it may have settled anyway.
 * An order that became final in the meantime records nothing (`Order.expire` is a no-op on it).
 */
@CommandHandler(ExpireOverdueOrdersCommand)
export class ExpireOverdueOrdersHandler implements ICommandHandler<ExpireOverdueOrdersCommand, { expired: string[] }> {
  private readonly logger = new Logger('ExpireOverdueOrders');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly store: OrderEventStore,
    private readonly history: OrderHistoryProjection,
  ) {}

  async execute(command: ExpireOverdueOrdersCommand): Promise<{ expired: string[] }> {
    const candidates = await this.history.pendingPlacedBefore(command.placedBefore, command.batchSize);
    const expired: string[] = [];
    for (const orderId of candidates) {
      try {
        if (await this.expire(orderId, command.now)) expired.push(orderId);
      } catch (error) {
        // A lost race or a blip: the order is still overdue at the next sweep.
        this.logger.warn({ orderId, err: error }, 'could not expire an overdue order; trying again at the next sweep');
      }
    }
    if (expired.length > 0) {
      this.logger.log({ orders: expired.length }, 'failed orders whose saga ran past its deadline');
    }
    return { expired };
  }

  private expire(orderId: string, now: Date): Promise<boolean> {
    return this.uow.transaction(async () => {
      if (!(await this.store.tryLockStream(orderId))) return false;
      const order = await this.store.load(orderId);
      if (!order) return false;
      order.expire(now.toISOString());
      // Continues the saga's correlation and trace, so the compensation it starts is seen with the order.
      const stored = this.store.append(order, await this.store.sagaOrigin(orderId));
      await this.history.project(order.id, stored);
      return stored.length > 0;
    });
  }
}
