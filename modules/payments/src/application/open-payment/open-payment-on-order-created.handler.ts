import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { causedBy, type Envelope, type PayloadOf } from '@contracts/kernel';
import type { OrderCreated } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { PaymentRepository } from '../../persistence/payment.repository';
import { ChargePaymentCommand } from '../charge-payment/charge-payment.command';

/** An order was created: note what it costs and how it pays; charge if its stock is already reserved. */
@Injectable()
export class OpenPaymentOnOrderCreated implements IntegrationEventHandler<typeof OrderCreated> {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly commands: CommandBus,
  ) {}

  async handle(order: PayloadOf<typeof OrderCreated>, envelope: Envelope): Promise<void> {
    await this.payments.learnPrice(order.orderId, order.customerId, order.total, order.paymentToken);
    await this.commands.execute(new ChargePaymentCommand(order.orderId, causedBy(envelope)));
  }
}
