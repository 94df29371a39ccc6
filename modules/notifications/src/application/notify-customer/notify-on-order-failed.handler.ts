import { Injectable } from '@nestjs/common';
import type { PayloadOf } from '@contracts/kernel';
import type { OrderFailed } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { orderFailedEmail } from '../../domain/order-email';
import { OrderNotifier } from './order-notifier';

@Injectable()
export class NotifyOnOrderFailed implements IntegrationEventHandler<typeof OrderFailed> {
  constructor(private readonly notifier: OrderNotifier) {}

  handle(order: PayloadOf<typeof OrderFailed>): Promise<void> {
    return this.notifier.notify(order.customerId, order.orderId, 'order-failed', (to) =>
      orderFailedEmail(to, order.orderId, order.reason),
    );
  }
}
