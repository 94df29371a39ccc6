import { Injectable } from '@nestjs/common';
import type { PayloadOf } from '@contracts/kernel';
import type { OrderConfirmed } from '@contracts/ordering';
import { Flags } from '@infra/flags';
import type { IntegrationEventHandler } from '@infra/messaging';
import { orderConfirmedEmail, orderConfirmedEmailWhatNext } from '../../domain/order-email';
import { NEW_CONFIRMATION_EMAIL } from './new-confirmation-email.flag';
import { OrderNotifier } from './order-notifier';

@Injectable()
export class NotifyOnOrderConfirmed implements IntegrationEventHandler<typeof OrderConfirmed> {
  constructor(
    private readonly notifier: OrderNotifier,
    private readonly flags: Flags,
  ) {}

  handle(order: PayloadOf<typeof OrderConfirmed>): Promise<void> {
    // Per customer, so that one customer reads one wording throughout a gradual rollout.
    const compose = this.flags.isOn(NEW_CONFIRMATION_EMAIL, order.customerId)
      ? orderConfirmedEmailWhatNext
      : orderConfirmedEmail;
    return this.notifier.notify(order.customerId, order.orderId, 'order-confirmed', (to) =>
      compose(to, order.orderId, order.total),
    );
  }
}
