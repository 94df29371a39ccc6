import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UnitOfWork } from '@infra/persistence';
import { OrderEventStore } from '../../persistence/order-event-store';
import { OrderHistoryProjection } from '../../persistence/order-history.projection';
import { RecordSagaStepCommand } from './record-saga-step.command';

/**
 * Loads the order, lets it record the step, appends what it recorded. Runs inside the inbox
 * transaction of the event that reported the step; a concurrent append makes the transaction
 * fail with a version conflict and the consumer's retry loads the order afresh.
 */
@CommandHandler(RecordSagaStepCommand)
export class RecordSagaStepHandler implements ICommandHandler<RecordSagaStepCommand, void> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly store: OrderEventStore,
    private readonly history: OrderHistoryProjection,
  ) {}

  async execute(command: RecordSagaStepCommand): Promise<void> {
    await this.uow.transaction(async () => {
      // Sent together, run in turn: the load starts once the lock is held and sees every append
      // made before it (one round trip instead of two; ADR 0036).
      const [, order] = await Promise.all([this.store.lockStream(command.orderId), this.store.load(command.orderId)]);
      if (!order) {
        throw new Error(`order ${command.orderId} is unknown to ordering`);
      }
      command.record(order);
      const stored = this.store.append(order, command.origin);
      await this.history.project(order.id, stored);
    });
  }
}
