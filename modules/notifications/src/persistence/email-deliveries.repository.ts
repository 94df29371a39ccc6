import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { OutgoingEmail } from '../domain/order-email';

/** An email whose turn has come, with how many times it was taken to be sent (this time included). */
export interface DueEmail extends OutgoingEmail {
  readonly attempts: number;
}

/**
 * The emails still to send (`email_deliveries`, one row per notification). A row is queued in the
 * transaction that records its notification, taken for a while (a lease) by whichever sender gets
 * it first, and deleted once the mail server took the email.
 */
@Injectable()
export class EmailDeliveries {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Takes up to `limit` emails that are due, each for `leaseMs`: no other sender (a replica, the
   * next sweep) takes one meanwhile, and one whose sender died is taken again once its lease ends.
   * One statement, committed at once: no transaction stays open while a mail server answers.
   */
  async claimDue(limit: number, leaseMs: number): Promise<DueEmail[]> {
    const rows = (await this.uow.manager.query(
      `UPDATE email_deliveries d
          SET due_at = now() + $2::double precision * interval '1 millisecond', attempts = d.attempts + 1
         FROM notifications n
        WHERE n.id = d.notification_id
          AND d.notification_id IN (
            SELECT notification_id FROM email_deliveries
             WHERE given_up_at IS NULL AND due_at <= now()
             ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
      RETURNING d.notification_id AS id, n.address, n.subject, n.body, d.attempts`,
      [limit, leaseMs],
    )) as [Array<{ id: string; address: string; subject: string; body: string; attempts: number }>, number];
    return rows[0].map((r) => ({ id: r.id, to: r.address, subject: r.subject, body: r.body, attempts: r.attempts }));
  }

  async sent(id: string): Promise<void> {
    await this.uow.manager.query('DELETE FROM email_deliveries WHERE notification_id = $1', [id]);
  }

  async retryLater(id: string, delayMs: number, reason: string): Promise<void> {
    await this.uow.manager.query(
      `UPDATE email_deliveries SET due_at = now() + $2::double precision * interval '1 millisecond', last_error = $3
        WHERE notification_id = $1`,
      [id, delayMs, reason],
    );
  }

  async giveUp(id: string, reason: string): Promise<void> {
    await this.uow.manager.query(
      'UPDATE email_deliveries SET given_up_at = now(), last_error = $2 WHERE notification_id = $1',
      [id, reason],
    );
  }
}
