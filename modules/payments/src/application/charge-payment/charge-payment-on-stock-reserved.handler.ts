import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { StockReserved } from '@contracts/inventory';
import { causedBy, type Envelope, type PayloadOf } from '@contracts/kernel';
import type { IntegrationEventHandler } from '@infra/messaging';
import { PaymentRepository } from '../../persistence/payment.repository';
import { ChargePaymentCommand } from './charge-payment.command';

@Injectable()
export class ChargePaymentOnStockReserved implements IntegrationEventHandler<typeof StockReserved> {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly commands: CommandBus,
  ) {}

  async handle(reservation: PayloadOf<typeof StockReserved>, envelope: Envelope): Promise<void> {
    await this.payments.learnStockReserved(reservation.orderId);
    await this.commands.execute(new ChargePaymentCommand(reservation.orderId, causedBy(envelope)));
  }
}
