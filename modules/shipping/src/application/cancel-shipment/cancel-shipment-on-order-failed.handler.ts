import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { PayloadOf } from '@contracts/kernel';
import type { OrderFailed } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { CancelShipmentCommand } from './cancel-shipment.command';

/** Saga compensation: an order failed → no shipment for it, whether payment-completed came first or not. */
@Injectable()
export class CancelShipmentOnOrderFailed implements IntegrationEventHandler<typeof OrderFailed> {
  constructor(private readonly commands: CommandBus) {}

  async handle(order: PayloadOf<typeof OrderFailed>): Promise<void> {
    await this.commands.execute(new CancelShipmentCommand(order.orderId, order.reason));
  }
}
