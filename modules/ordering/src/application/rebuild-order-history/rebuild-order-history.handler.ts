import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UnitOfWork } from '@infra/persistence';
import { OrderEventStore } from '../../persistence/order-event-store';
import { OrderHistoryProjection } from '../../persistence/order-history.projection';
import { RebuildOrderHistoryCommand } from './rebuild-order-history.command';

/** Throws the read model away and replays every order stream into it, in one transaction. */
@CommandHandler(RebuildOrderHistoryCommand)
export class RebuildOrderHistoryHandler implements ICommandHandler<
  RebuildOrderHistoryCommand,
  { ordersProjected: number }
> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly store: OrderEventStore,
    private readonly history: OrderHistoryProjection,
  ) {}

  async execute(): Promise<{ ordersProjected: number }> {
    return this.uow.transaction(async (manager) => {
      await manager.query('LOCK TABLE order_history IN EXCLUSIVE MODE');
      await this.history.clear();
      const orders = new Set<string>();
      for await (const { orderId, stored } of this.store.replayAll()) {
        orders.add(orderId);
        await this.history.project(orderId, [stored]);
      }
      return { ordersProjected: orders.size };
    });
  }
}
