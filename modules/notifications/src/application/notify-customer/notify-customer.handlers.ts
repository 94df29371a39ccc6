import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { PayloadOf } from '@contracts/kernel';
import type { OrderConfirmed, OrderFailed } from '@contracts/ordering';
import { Flags } from '@infra/flags';
import type { IntegrationEventHandler } from '@infra/messaging';
import {
  EMAIL_SENDER,
  orderConfirmedEmail,
  orderConfirmedEmailWhatNext,
  orderFailedEmail,
  type EmailMessage,
  type EmailSender,
} from '../../domain/order-email';
import { NotificationRepository } from '../../persistence/notification.repository';
import { NEW_CONFIRMATION_EMAIL } from './new-confirmation-email.flag';

/** Records the email and sends it; once per order and kind, however often the event arrives. */
@Injectable()
export class OrderNotifier {
  constructor(
    private readonly notifications: NotificationRepository,
    @Inject(EMAIL_SENDER) private readonly sender: EmailSender,
  ) {}

  async notify(customerId: string, orderId: string, kind: string, compose: (to: string) => EmailMessage): Promise<void> {
    const email = await this.notifications.emailOf(customerId);
    if (!email) {
      // customer-registered has not reached us yet: fail so that the consumer retries later.
      throw new Error(`no address known yet for customer ${customerId}`);
    }
    const message = compose(email);
    if (await this.notifications.record(randomUUID(), customerId, message, orderId, kind)) {
      await this.sender.send(message);
    }
  }
}

@Injectable()
export class NotifyOnOrderConfirmed implements IntegrationEventHandler<typeof OrderConfirmed> {
  constructor(
    private readonly notifier: OrderNotifier,
    private readonly flags: Flags,
  ) {}

  handle(order: PayloadOf<typeof OrderConfirmed>): Promise<void> {
    // Per customer, so that one customer reads one wording throughout a gradual rollout.
    const compose = this.flags.isOn(NEW_CONFIRMATION_EMAIL, order.customerId) ? orderConfirmedEmailWhatNext : orderConfirmedEmail;
    return this.notifier.notify(order.customerId, order.orderId, 'order-confirmed', (to) => compose(to, order.orderId, order.total));
  }
}

@Injectable()
export class NotifyOnOrderFailed implements IntegrationEventHandler<typeof OrderFailed> {
  constructor(private readonly notifier: OrderNotifier) {}

  handle(order: PayloadOf<typeof OrderFailed>): Promise<void> {
    return this.notifier.notify(order.customerId, order.orderId, 'order-failed', (to) =>
      orderFailedEmail(to, order.orderId, order.reason),
    );
  }
}
