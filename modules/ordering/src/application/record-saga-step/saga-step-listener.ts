import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { causedBy, type Envelope, type EventDefinition, type PayloadOf } from '@contracts/kernel';
import type { IntegrationEventHandler } from '@infra/messaging';
import type { Order } from '../../domain/order';
import { RecordSagaStepCommand } from './record-saga-step.command';

/** Turns another context's event into a step on the order's stream; each subclass says which step. */
@Injectable() // emits the constructor's parameter types, which the subclasses inherit
export abstract class SagaStepListener<E extends EventDefinition> implements IntegrationEventHandler<E> {
  constructor(private readonly commands: CommandBus) {}

  protected abstract record(order: Order, payload: PayloadOf<E>, at: string): void;

  async handle(payload: PayloadOf<E>, envelope: Envelope): Promise<void> {
    await this.commands.execute(
      new RecordSagaStepCommand(
        (payload as { orderId: string }).orderId,
        (order) => this.record(order, payload, envelope.occurredAt),
        causedBy(envelope),
      ),
    );
  }
}
