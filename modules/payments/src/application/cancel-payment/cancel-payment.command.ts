import { Command } from '@nestjs/cqrs';
import type { EventOrigin } from '@contracts/kernel';

/** The order failed: its payment must never be charged, and is refunded if it already was. */
export class CancelPaymentCommand extends Command<{ refunded: boolean }> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
    readonly origin: EventOrigin,
  ) {
    super();
  }
}
