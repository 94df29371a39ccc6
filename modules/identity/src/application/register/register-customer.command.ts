import { Command } from '@nestjs/cqrs';
import type { EventOrigin } from '@contracts/kernel';

export class RegisterCustomerCommand extends Command<{ customerId: string }> {
  constructor(
    readonly email: string,
    readonly password: string,
    readonly origin: EventOrigin,
  ) {
    super();
  }
}
