import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RegistrationAttempted } from '@contracts/identity';
import type { PayloadOf } from '@contracts/kernel';
import type { IntegrationEventHandler } from '@infra/messaging';
import { registrationAttemptedEmail } from '../../domain/account-email';
import { NotificationRepository } from '../../persistence/notification.repository';
import { EmailDispatcher } from '../email-delivery/email-dispatcher';

/** Tells an account's owner that someone registered with their address (the registrant was told nothing). */
@Injectable()
export class WarnOwnerOnRegistrationAttempted implements IntegrationEventHandler<typeof RegistrationAttempted> {
  constructor(
    private readonly notifications: NotificationRepository,
    private readonly emails: EmailDispatcher,
  ) {}

  async handle(attempt: PayloadOf<typeof RegistrationAttempted>): Promise<void> {
    const message = registrationAttemptedEmail(attempt.email);
    const notification = randomUUID();
    await this.notifications.record(notification, attempt.customerId, message, null, 'registration-attempted');
    this.emails.sendAfterCommit({ notification, kind: 'registration-attempted' });
  }
}
