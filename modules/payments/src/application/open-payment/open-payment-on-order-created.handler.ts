import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { causedBy, type Envelope, type PayloadOf } from '@contracts/kernel';
import type { OrderCreatedV2 } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { PaymentMethodVault } from '../../persistence/payment-method.vault';
import { PaymentRepository } from '../../persistence/payment.repository';
import { ChargePaymentCommand } from '../charge-payment/charge-payment.command';

/**
 * An order was created: note what it costs and the payment method it pays with, which the order
 * takes if it was held for its customer and no other order took it (otherwise the charge is
 * declined, ChargePaymentHandler); charge if its stock is already reserved.
 */
@Injectable()
export class OpenPaymentOnOrderCreated implements IntegrationEventHandler<typeof OrderCreatedV2> {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly vault: PaymentMethodVault,
    private readonly commands: CommandBus,
  ) {}

  async handle(order: PayloadOf<typeof OrderCreatedV2>, envelope: Envelope): Promise<void> {
    await this.vault.takeFor(order.orderId, order.customerId, order.paymentMethodId);
    await this.payments.learnPrice(order.orderId, order.customerId, order.total, order.paymentMethodId);
    await this.commands.execute(new ChargePaymentCommand(order.orderId, causedBy(envelope)));
  }
}
