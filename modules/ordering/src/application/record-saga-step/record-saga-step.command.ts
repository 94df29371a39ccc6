import { Command } from '@nestjs/cqrs';
import type { EventOrigin } from '@contracts/kernel';
import type { Order } from '../../domain/order';

/** A fact about an order that another context reported, to be recorded on the order's stream. */
export class RecordSagaStepCommand extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly record: (order: Order) => void,
    readonly origin: EventOrigin,
  ) {
    super();
  }
}
