import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { causedBy, type Envelope, type PayloadOf } from '@contracts/kernel';
import type { OrderFailed } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { CancelPaymentCommand } from './cancel-payment.command';

/**
 * Saga compensation: an order failed → never charge it, and refund it if it was charged. May come
 * before order-created or stock-reserved (relays of different contexts), or after the charge.
 */
@Injectable()
export class CancelPaymentOnOrderFailed implements IntegrationEventHandler<typeof OrderFailed> {
  constructor(private readonly commands: CommandBus) {}

  async handle(order: PayloadOf<typeof OrderFailed>, envelope: Envelope): Promise<void> {
    await this.commands.execute(
      new CancelPaymentCommand(order.orderId, `order-failed: ${order.reason}`, causedBy(envelope)),
    );
  }
}
