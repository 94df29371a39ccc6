import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { LoginThrottleKeys, LoginThrottlePolicy } from '../domain/login-throttle-policy';

/** Fixed-window counters of login attempts in identity's schema, shared by every replica. */
@Injectable()
export class LoginThrottleRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * Counts an attempt against both keys in one statement and says when the caller may try again,
   * if either counter is over its limit. The count comes before the password check, so parallel
   * guesses cannot all slip through before the first failure is written.
   */
  async countAttempt(
    keys: LoginThrottleKeys,
    policy: LoginThrottlePolicy,
  ): Promise<{ retryAfterSeconds: number } | undefined> {
    const rows = (await this.uow.manager.query(
      `INSERT INTO login_throttle (key, attempts, window_started_at)
       SELECT key, 1, now() FROM unnest($1::text[]) AS key
       ON CONFLICT (key) DO UPDATE SET
         attempts = CASE WHEN login_throttle.window_started_at <= now() - make_interval(secs => $2)
                         THEN 1 ELSE login_throttle.attempts + 1 END,
         window_started_at = CASE WHEN login_throttle.window_started_at <= now() - make_interval(secs => $2)
                                  THEN now() ELSE login_throttle.window_started_at END
       RETURNING key, attempts,
         greatest(1, ceil(extract(epoch FROM window_started_at + make_interval(secs => $2) - now())))::int AS
           retry_after`,
      [[keys.accountAndAddress, keys.address], policy.windowSeconds],
    )) as Array<{ key: string; attempts: number; retry_after: number }>;
    const limitOf = (key: string) => (key === keys.address ? policy.perAddress : policy.perAccountAndAddress);
    const over = rows.filter((row) => row.attempts > limitOf(row.key));
    return over.length === 0 ? undefined : { retryAfterSeconds: Math.max(...over.map((row) => row.retry_after)) };
  }

  /** A successful login: its account starts afresh; the address forgets this one attempt. */
  async succeeded(keys: LoginThrottleKeys): Promise<void> {
    await this.uow.manager.query('DELETE FROM login_throttle WHERE key = $1', [keys.accountAndAddress]);
    await this.uow.manager.query('UPDATE login_throttle SET attempts = greatest(attempts - 1, 0) WHERE key = $1', [
      keys.address,
    ]);
  }

  /** Windows long past are dead weight (IdentityHousekeeping drops them every few minutes). */
  async deleteEnded(policy: LoginThrottlePolicy): Promise<void> {
    await this.uow.manager.query(
      'DELETE FROM login_throttle WHERE window_started_at < now() - make_interval(secs => $1)',
      [policy.windowSeconds],
    );
  }
}
