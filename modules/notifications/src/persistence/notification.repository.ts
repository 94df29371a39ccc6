import { Injectable } from '@nestjs/common';
import type { NotificationView } from '@contracts/notifications';
import { UnitOfWork } from '@infra/persistence';
import type { EmailMessage } from '../domain/order-email';

@Injectable()
export class NotificationRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async rememberRecipient(customerId: string, email: string): Promise<void> {
    await this.uow.manager.query(
      'INSERT INTO recipients (customer_id, email) VALUES ($1, $2) ON CONFLICT (customer_id) DO UPDATE SET ' +
        'email = EXCLUDED.email',
      [customerId, email],
    );
  }

  async emailOf(customerId: string): Promise<string | undefined> {
    const [row] = (await this.uow.manager.query('SELECT email FROM recipients WHERE customer_id = $1', [
      customerId,
    ])) as Array<{
      email: string;
    }>;
    return row?.email;
  }

  /**
   * Records the email and queues it to be sent (`email_deliveries`), in one statement of the open
   * transaction: it leaves once that commits (EmailDispatcher). False when this order already got
   * this kind of notification (account emails, without an order, are always new): nothing is queued.
   */
  async record(
    id: string,
    recipientId: string,
    message: EmailMessage,
    orderId: string | null,
    kind: string,
  ): Promise<boolean> {
    const queued = (await this.uow.manager.query(
      `WITH recorded AS (
         INSERT INTO notifications (id, recipient_id, channel, address, subject, body, order_id, kind)
         VALUES ($1, $2, 'email', $3, $4, $5, $6, $7) ON CONFLICT (order_id, kind) DO NOTHING RETURNING id)
       INSERT INTO email_deliveries (notification_id) SELECT id FROM recorded RETURNING notification_id`,
      [id, recipientId, message.to, message.subject, message.body, orderId, kind],
    )) as unknown[];
    return queued.length === 1;
  }

  /** What was mailed to `address`, newest first (the development mailbox). */
  async mailbox(address: string): Promise<Array<{ subject: string; text: string; kind: string; sentAt: string }>> {
    const rows = (await this.uow.manager.query(
      'SELECT subject, body, kind, sent_at FROM notifications WHERE address = $1 ORDER BY sent_at DESC, id LIMIT 50',
      [address.trim().toLowerCase()],
    )) as Array<{ subject: string; body: string; kind: string; sent_at: Date }>;
    return rows.map((r) => ({ subject: r.subject, text: r.body, kind: r.kind, sentAt: r.sent_at.toISOString() }));
  }

  async list(
    recipientId: string | undefined,
    page: number,
    pageSize: number,
  ): Promise<{ items: NotificationView[]; total: number }> {
    const where = recipientId ? 'WHERE recipient_id = $3' : '';
    const params: unknown[] = [pageSize, (page - 1) * pageSize];
    if (recipientId) params.push(recipientId);
    const rows = (await this.uow.manager.query(
      `SELECT *, count(*) OVER () AS total FROM notifications ${where} ORDER BY sent_at DESC, id LIMIT $1 OFFSET $2`,
      params,
    )) as Array<{
      id: string;
      recipient_id: string;
      address: string;
      subject: string;
      body: string;
      order_id: string | null;
      sent_at: Date;
      total: string;
    }>;
    return {
      total: rows.length ? Number(rows[0].total) : 0,
      items: rows.map((r) => ({
        id: r.id,
        recipientId: r.recipient_id,
        channel: 'email' as const,
        to: r.address,
        subject: r.subject,
        body: r.body,
        orderId: r.order_id ?? undefined,
        sentAt: r.sent_at.toISOString(),
      })),
    };
  }
}
