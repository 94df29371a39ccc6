import { Command } from '@nestjs/cqrs';
import type { EventOrigin } from '@contracts/kernel';

export class CreateShipmentCommand extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly customerId: string | undefined,
    readonly origin: EventOrigin,
  ) {
    super();
  }
}
