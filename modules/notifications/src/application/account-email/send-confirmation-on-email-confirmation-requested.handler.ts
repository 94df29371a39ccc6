import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EmailConfirmationRequested } from '@contracts/identity';
import type { PayloadOf } from '@contracts/kernel';
import type { IntegrationEventHandler } from '@infra/messaging';
import { confirmationEmail } from '../../domain/account-email';
import { NotificationRepository } from '../../persistence/notification.repository';
import { EmailDispatcher } from '../email-delivery/email-dispatcher';
import { MailSettings, type MailOptions } from '../mail.settings';

/** Mails the confirmation link; the shop's public address is FICUS_PUBLIC_URL (http://localhost:3000 by default). */
@Injectable()
export class SendConfirmationOnEmailConfirmationRequested implements IntegrationEventHandler<
  typeof EmailConfirmationRequested
> {
  constructor(
    private readonly notifications: NotificationRepository,
    private readonly emails: EmailDispatcher,
    @Inject(MailSettings.token) private readonly mail: MailOptions,
  ) {}

  async handle(request: PayloadOf<typeof EmailConfirmationRequested>): Promise<void> {
    const message = confirmationEmail(request.email, this.mail.publicUrl, request.token, request.expiresAt);
    const notification = randomUUID();
    await this.notifications.record(notification, request.customerId, message, null, 'email-confirmation');
    this.emails.sendAfterCommit({ notification, kind: 'email-confirmation' });
  }
}
