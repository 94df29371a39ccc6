import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { causedBy, type Envelope, type PayloadOf } from '@contracts/kernel';
import type { OrderCreated } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { PaymentMethodVault } from '../../persistence/payment-method.vault';
import { PaymentRepository } from '../../persistence/payment.repository';
import { ChargePaymentCommand } from '../charge-payment/charge-payment.command';

/**
 * order-created v1, with the card token in the event: what an outbox or a topic held when the
 * vault came, and what callers of the released placeOrder still make (ADR 0037). The token goes
 * into the vault at once, taken by this order; from there the payment goes as for v2.
 */
@Injectable()
export class OpenPaymentOnOrderCreatedV1 implements IntegrationEventHandler<typeof OrderCreated> {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly vault: PaymentMethodVault,
    private readonly commands: CommandBus,
  ) {}

  async handle(order: PayloadOf<typeof OrderCreated>, envelope: Envelope): Promise<void> {
    const paymentMethodId = await this.vault.holdForOrder(order.orderId, order.customerId, order.paymentToken);
    await this.payments.learnPrice(order.orderId, order.customerId, order.total, paymentMethodId);
    await this.commands.execute(new ChargePaymentCommand(order.orderId, causedBy(envelope)));
  }
}
