import { Logger } from '@nestjs/common';
import type { EmailMessage, EmailSender } from '../domain/order-email';

/**
 * The sender that ships: it writes each email to the log. Every email is also kept in the
 * notifications table (listable at GET /notifications), whichever sender is plugged in.
 */
export class LogEmailSender implements EmailSender {
  private readonly logger = new Logger('LogEmailSender');

  async send(message: EmailMessage): Promise<void> {
    this.logger.log({ to: message.to, subject: message.subject }, 'email sent');
  }
}
