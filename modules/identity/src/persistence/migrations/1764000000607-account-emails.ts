import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How many account emails (a confirmation link, a warning that someone tried to register) went
 * to each account lately: a registration mails an address only within AccountEmailPolicy. In
 * PostgreSQL, so every identity replica counts against one limit.
 */
export class AccountEmails1764000000607 implements MigrationInterface {
  name = 'AccountEmails1764000000607';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE account_emails (
        customer_id uuid NOT NULL REFERENCES customers (customer_id),
        kind text NOT NULL,
        last_sent_at timestamptz NOT NULL,
        window_started_at timestamptz NOT NULL,
        sent_in_window integer NOT NULL,
        PRIMARY KEY (customer_id, kind)
      )`);
    await runner.query('CREATE INDEX account_emails_window ON account_emails (window_started_at)');
    // Spent and expired links were never dropped; IdentityHousekeeping now drops them a day on.
    await runner.query('CREATE INDEX email_confirmations_expiry ON email_confirmations (expires_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX email_confirmations_expiry');
    await runner.query('DROP TABLE account_emails');
  }
}
