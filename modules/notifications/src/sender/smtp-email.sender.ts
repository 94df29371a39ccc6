import { createTransport } from 'nodemailer';
import { EmailRefused, type EmailSender, type OutgoingEmail } from '../domain/order-email';

/**
 * Sends through an SMTP server (FICUS_SMTP_URL: `smtp://` with STARTTLS when the server offers it,
 * `smtps://` for TLS from the start, credentials in the URL), with nodemailer. A few pooled
 * connections, and timeouts that keep a send well within EmailDispatcher's lease.
 */
export class SmtpEmailSender implements EmailSender {
  private readonly transport;
  private readonly domain: string;

  constructor(url: string, from: string) {
    this.transport = createTransport(
      {
        url,
        pool: true,
        maxConnections: 3,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      },
      { from },
    );
    this.domain = /@([^@\s>]+)>?\s*$/.exec(from)?.[1] ?? 'ficus.local';
  }

  async send(email: OutgoingEmail): Promise<void> {
    try {
      await this.transport.sendMail({
        to: email.to,
        subject: email.subject,
        text: email.body,
        // The notification's id: a resend (a crash before its row was deleted) is the same message.
        messageId: `<${email.id}@${this.domain}>`,
      });
    } catch (error) {
      if (refusedRecipient(error)) throw new EmailRefused(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * Whether the server refused this email's recipient for good: a 5xx answer to RCPT TO (nodemailer's
 * `permanent`), or an address nodemailer refused before asking (an envelope error without an
 * answer). A 5xx anywhere else (a wrong password, a From the provider does not allow, a paused
 * account) is the sender's configuration, the same for every email: tried again, so that mending
 * it sends what waited.
 */
function refusedRecipient(error: unknown): boolean {
  const { permanent, code, command, responseCode } = (error ?? {}) as Record<string, unknown>;
  if (code !== 'EENVELOPE') return false;
  return responseCode === undefined || (permanent === true && command === 'RCPT TO');
}
