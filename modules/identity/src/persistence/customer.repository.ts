import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { Role } from '../domain/credentials';

export interface CustomerAccount {
  readonly customerId: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly roles: Role[];
  /** When the account proved its mailbox; unset until then (it cannot sign in). */
  readonly emailConfirmedAt?: Date | null;
}

@Injectable()
export class CustomerRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** False when the email is taken. */
  async insert(account: CustomerAccount): Promise<boolean> {
    const inserted = (await this.uow.manager.query(
      `INSERT INTO customers (customer_id, email, password_hash, roles) VALUES ($1, $2, $3, $4)
       ON CONFLICT (email) DO NOTHING RETURNING customer_id`,
      [account.customerId, account.email, account.passwordHash, account.roles],
    )) as unknown[];
    return inserted.length === 1;
  }

  /** With `lock`, the account's row stays locked until the transaction ends. */
  byEmail(email: string, options: { lock?: boolean } = {}): Promise<CustomerAccount | undefined> {
    return this.one('email = $1', email, options.lock);
  }

  byId(customerId: string): Promise<CustomerAccount | undefined> {
    return this.one('customer_id = $1', customerId);
  }

  private async one(where: string, value: string, lock = false): Promise<CustomerAccount | undefined> {
    const [row] = (await this.uow.manager.query(
      `SELECT customer_id, email, password_hash, roles, email_confirmed_at FROM customers WHERE ` +
        `${where}${lock ? ' FOR UPDATE' : ''}`,
      [value],
    )) as Array<{
      customer_id: string;
      email: string;
      password_hash: string;
      roles: Role[];
      email_confirmed_at: Date | null;
    }>;
    return row
      ? {
          customerId: row.customer_id,
          email: row.email,
          passwordHash: row.password_hash,
          roles: row.roles,
          emailConfirmedAt: row.email_confirmed_at,
        }
      : undefined;
  }

  /** Accounts holding `role`, oldest first. With `lock`, their rows stay locked until the transaction ends. */
  async withRole(role: Role, options: { lock?: boolean } = {}): Promise<Array<{ customerId: string; email: string }>> {
    const rows = (await this.uow.manager.query(
      `SELECT customer_id, email FROM customers WHERE $1 = ANY (roles) ORDER BY created_at, ` +
        `customer_id${options.lock ? ' FOR UPDATE' : ''}`,
      [role],
    )) as Array<{ customer_id: string; email: string }>;
    return rows.map((row) => ({ customerId: row.customer_id, email: row.email }));
  }

  /** Sets the account's roles and records who changed which one. */
  async changeRoles(
    customerId: string,
    roles: Role[],
    change: { role: Role; change: 'granted' | 'revoked'; actor: string },
  ): Promise<void> {
    await this.uow.manager.query('UPDATE customers SET roles = $2 WHERE customer_id = $1', [customerId, roles]);
    await this.uow.manager.query(
      'INSERT INTO role_changes (customer_id, role, change, actor) VALUES ($1, $2, $3, $4)',
      [customerId, change.role, change.change, change.actor],
    );
  }

  /**
   * Stores a confirmation token's hash for the account, valid for `ttlHours`, with the password
   * chosen by the registration that mails it (set when the link is followed).
   */
  async addConfirmation(customerId: string, tokenHash: string, ttlHours: number, passwordHash: string): Promise<Date> {
    const [row] = (await this.uow.manager.query(
      `INSERT INTO email_confirmations (token_hash, customer_id, expires_at, password_hash) VALUES ($1, $2, now() + ` +
        `make_interval(hours => $3), $4) RETURNING expires_at`,
      [tokenHash, customerId, ttlHours, passwordHash],
    )) as Array<{ expires_at: Date }>;
    return row.expires_at;
  }

  /**
   * Takes one of a link's password attempts, or undefined for a token unknown, used, expired or
   * out of attempts. Taken before the password is checked, so that attempts sent at once count as
   * many; a link out of attempts serves only a right password already taken, and is swept with the
   * expired ones. The answer is the password to check: the one the confirmation will leave the
   * account with, the link's registration's or, for a link mailed before links carried one, the
   * account's own (which such a link keeps).
   */
  async takeConfirmationAttempt(tokenHash: string, maxAttempts: number): Promise<{ passwordHash: string } | undefined> {
    const [row] = (await this.uow.manager.query(
      `WITH taken AS (
         UPDATE email_confirmations SET password_attempts = password_attempts + 1
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() AND password_attempts < $2
         RETURNING customer_id, password_hash)
       SELECT coalesce(taken.password_hash, c.password_hash) AS password_hash
         FROM taken JOIN customers c USING (customer_id)`,
      [tokenHash, maxAttempts],
    )) as Array<{ password_hash: string }>;
    return row && { passwordHash: row.password_hash };
  }

  /**
   * Uses the token up and confirms its account; the account's id, or undefined for a token unknown,
   * used or expired. The account takes the password chosen with the token's registration (one
   * mailed before links carried one keeps its own), and its other links are spent: an address
   * registered by several people (only one of whom reads its mailbox) signs in with the password of
   * the registration whose link was followed, and no later link changes it.
   * The account's row is locked first: two of its links followed at once wait for each other
   * (the second then finds its link spent) instead of each locking its own link and deadlocking.
   */
  async confirm(tokenHash: string): Promise<string | undefined> {
    await this.uow.manager.query(
      `SELECT 1 FROM customers WHERE customer_id = (
         SELECT customer_id FROM email_confirmations WHERE token_hash = $1) FOR UPDATE`,
      [tokenHash],
    );
    const [row] = (await this.uow.manager.query(
      // A CTE, so the answer is the rows (an UPDATE's comes back as [rows, count]); the hash is
      // read before the UPDATE clears it (RETURNING would give the new value).
      `WITH link AS (
         SELECT customer_id, password_hash FROM email_confirmations
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() FOR UPDATE),
       used AS (
         UPDATE email_confirmations e SET used_at = now(), password_hash = NULL FROM link
         WHERE e.token_hash = $1 RETURNING e.customer_id)
       SELECT link.customer_id, link.password_hash FROM link JOIN used USING (customer_id)`,
      [tokenHash],
    )) as Array<{ customer_id: string; password_hash: string | null }>;
    if (!row) return undefined;
    await this.uow.manager.query(
      `UPDATE customers SET email_confirmed_at = now(), password_hash = coalesce($2, password_hash)
       WHERE customer_id = $1 AND email_confirmed_at IS NULL`,
      [row.customer_id, row.password_hash],
    );
    // The account's other links are spent too, and no link keeps the hash of a password not chosen.
    await this.uow.manager.query(
      'UPDATE email_confirmations SET used_at = now(), password_hash = NULL WHERE customer_id = $1 AND used_at IS NULL',
      [row.customer_id],
    );
    return row.customer_id;
  }

  /** Links used or expired a day ago serve nothing (IdentityHousekeeping drops them). */
  async deleteSpentConfirmations(): Promise<void> {
    await this.uow.manager.query(
      `DELETE FROM email_confirmations
       WHERE expires_at < now() - interval '1 day' OR used_at < now() - interval '1 day'`,
    );
  }
}
