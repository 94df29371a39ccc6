import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EMAIL_SENDER, type EmailMessage, type EmailSender } from '../../domain/order-email';
import { NotificationRepository } from '../../persistence/notification.repository';

/** Records the email and sends it; once per order and kind, however often the event arrives. */
@Injectable()
export class OrderNotifier {
  constructor(
    private readonly notifications: NotificationRepository,
    @Inject(EMAIL_SENDER) private readonly sender: EmailSender,
  ) {}

  async notify(
    customerId: string,
    orderId: string,
    kind: string,
    compose: (to: string) => EmailMessage,
  ): Promise<void> {
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
