import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { AccountEmailKind, AccountEmailPolicy } from '../domain/account-email-policy';

/** Fixed-window counters of the account emails a registration sends, per account and kind. */
@Injectable()
export class AccountEmailRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Counts an email of `kind` to the account if the policy lets one go now, in one statement:
   * true when it may be sent. Concurrent registrations of one address wait for each other on the
   * counter's row, so two cannot both take the last one.
   */
  async take(customerId: string, kind: AccountEmailKind, policy: AccountEmailPolicy): Promise<boolean> {
    const taken = (await this.uow.manager.query(
      `INSERT INTO account_emails AS sent (customer_id, kind, last_sent_at, window_started_at, sent_in_window)
       VALUES ($1, $2, now(), now(), 1)
       ON CONFLICT (customer_id, kind) DO UPDATE SET
         last_sent_at = now(),
         sent_in_window = CASE WHEN sent.window_started_at <= now() - make_interval(secs => $4)
                               THEN 1 ELSE sent.sent_in_window + 1 END,
         window_started_at = CASE WHEN sent.window_started_at <= now() - make_interval(secs => $4)
                                  THEN now() ELSE sent.window_started_at END
       WHERE sent.last_sent_at <= now() - make_interval(secs => $3)
         AND (sent.window_started_at <= now() - make_interval(secs => $4) OR sent.sent_in_window < $5)
       RETURNING 1`,
      [customerId, kind, policy.cooldownSeconds, policy.windowSeconds, policy.perWindow],
    )) as unknown[];
    return taken.length === 1;
  }

  /** Counters whose window and cooldown have both passed hold nothing back (IdentityHousekeeping drops them). */
  async deleteEnded(policy: AccountEmailPolicy): Promise<void> {
    await this.uow.manager.query(
      `DELETE FROM account_emails
       WHERE window_started_at < now() - make_interval(secs => $1)
         AND last_sent_at < now() - make_interval(secs => $2)`,
      [policy.windowSeconds, policy.cooldownSeconds],
    );
  }
}
