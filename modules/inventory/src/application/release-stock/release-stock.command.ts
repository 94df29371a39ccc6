import { Command } from '@nestjs/cqrs';
import type { EventOrigin } from '@contracts/kernel';

export class ReleaseStockCommand extends Command<{ released: boolean }> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
    readonly origin: EventOrigin,
  ) {
    super();
  }
}
