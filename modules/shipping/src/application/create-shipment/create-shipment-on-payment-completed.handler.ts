import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { causedBy, type Envelope, type PayloadOf } from '@contracts/kernel';
import type { PaymentCompleted } from '@contracts/payments';
import type { IntegrationEventHandler } from '@infra/messaging';
import { CreateShipmentCommand } from './create-shipment.command';

@Injectable()
export class CreateShipmentOnPaymentCompleted implements IntegrationEventHandler<typeof PaymentCompleted> {
  constructor(private readonly commands: CommandBus) {}

  async handle(payment: PayloadOf<typeof PaymentCompleted>, envelope: Envelope): Promise<void> {
    await this.commands.execute(new CreateShipmentCommand(payment.orderId, payment.customerId, causedBy(envelope)));
  }
}
