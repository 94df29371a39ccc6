import { Logger } from '@nestjs/common';
import type { EmailSender, OutgoingEmail } from '../domain/order-email';

/**
 * The sender without FICUS_SMTP_URL (development only: production requires an SMTP server). It
 * writes a line per email to the log, naming the notification, not the address; what the email
 * says is in the notifications table, and the development mailbox shows it.
 */
export class LogEmailSender implements EmailSender {
  private readonly logger = new Logger('LogEmailSender');

  async send(email: OutgoingEmail): Promise<void> {
    this.logger.log({ notification: email.id, subject: email.subject }, 'email sent (to the log only)');
  }
}
