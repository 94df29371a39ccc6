import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { causedBy, type Envelope, type PayloadOf } from '@contracts/kernel';
import type { PaymentFailed } from '@contracts/payments';
import type { IntegrationEventHandler } from '@infra/messaging';
import { ReleaseStockCommand } from '../release-stock/release-stock.command';

/** Saga compensation: the payment failed → give the order's stock back. */
@Injectable()
export class ReleaseStockOnPaymentFailed implements IntegrationEventHandler<typeof PaymentFailed> {
  constructor(private readonly commands: CommandBus) {}

  async handle(payment: PayloadOf<typeof PaymentFailed>, envelope: Envelope): Promise<void> {
    await this.commands.execute(new ReleaseStockCommand(payment.orderId, 'payment-failed', causedBy(envelope)));
  }
}
