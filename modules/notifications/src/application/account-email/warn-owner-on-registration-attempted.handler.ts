import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RegistrationAttempted } from '@contracts/identity';
import type { PayloadOf } from '@contracts/kernel';
import type { IntegrationEventHandler } from '@infra/messaging';
import { registrationAttemptedEmail } from '../../domain/account-email';
import { EMAIL_SENDER, type EmailSender } from '../../domain/order-email';
import { NotificationRepository } from '../../persistence/notification.repository';

/** Tells an account's owner that someone registered with their address (the registrant was told nothing). */
@Injectable()
export class WarnOwnerOnRegistrationAttempted implements IntegrationEventHandler<typeof RegistrationAttempted> {
  constructor(
    private readonly notifications: NotificationRepository,
    @Inject(EMAIL_SENDER) private readonly sender: EmailSender,
  ) {}

  async handle(attempt: PayloadOf<typeof RegistrationAttempted>): Promise<void> {
    const message = registrationAttemptedEmail(attempt.email);
    await this.notifications.record(randomUUID(), attempt.customerId, message, null, 'registration-attempted');
    await this.sender.send(message);
  }
}
