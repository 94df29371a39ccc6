import { Injectable } from '@nestjs/common';
import type { PayloadOf } from '@contracts/kernel';
import type { OrderCreated } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { PaymentRepository } from '../../persistence/payment.repository';

/** An order was created: note what it will cost and how it pays; nothing is charged yet. */
@Injectable()
export class OpenPaymentOnOrderCreated implements IntegrationEventHandler<typeof OrderCreated> {
  constructor(private readonly payments: PaymentRepository) {}

  async handle(order: PayloadOf<typeof OrderCreated>): Promise<void> {
    await this.payments.open({
      orderId: order.orderId,
      amount: order.total,
      token: order.paymentToken,
      status: 'PENDING',
    });
  }
}
