import { Command } from '@nestjs/cqrs';

/** The order is confirmed: its reserved stock is gone for good. */
export class CommitReservationCommand extends Command<{ committed: boolean }> {
  constructor(readonly orderId: string) {
    super();
  }
}
