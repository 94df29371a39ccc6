import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EmailMessage } from '../../domain/order-email';
import { NotificationRepository } from '../../persistence/notification.repository';
import { EmailDispatcher } from '../email-delivery/email-dispatcher';

/** Records the email and sends it once committed; once per order and kind, however often the event arrives. */
@Injectable()
export class OrderNotifier {
  constructor(
    private readonly notifications: NotificationRepository,
    private readonly emails: EmailDispatcher,
  ) {}

  async notify(
    customerId: string,
    orderId: string,
    kind: string,
    compose: (to: string) => EmailMessage,
  ): Promise<void> {
    const email = await this.notifications.emailOf(customerId);
    if (!email) {
      // customer-registered has not reached notifications. A customer who can order has confirmed
      // their address, and notifications mailed that confirmation after the registration (same
      // key, same partition): so the registration was lost here, or is late in one process. The
      // in-memory retries cover the latter; the former goes to dead letters, and a replay sends
      // the email once the address is there.
      throw new Error(`no address known yet for customer ${customerId}`);
    }
    const message = compose(email);
    const notification = randomUUID();
    if (await this.notifications.record(notification, customerId, message, orderId, kind)) {
      this.emails.sendAfterCommit({ notification, kind });
    }
  }
}
