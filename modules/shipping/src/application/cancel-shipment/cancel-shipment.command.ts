import { Command } from '@nestjs/cqrs';

/** The order failed: cancel its shipment, or make sure it never gets one. */
export class CancelShipmentCommand extends Command<{ cancelled: boolean }> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
  ) {
    super();
  }
}
