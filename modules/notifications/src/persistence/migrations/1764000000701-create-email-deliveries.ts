import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The emails still to send: one row per notification, written in the transaction that records the
 * notification and deleted once the mail server took the email (EmailDispatcher). A new table, so
 * that notifications a release before this one sent itself are never taken for unsent.
 */
export class CreateEmailDeliveries1764000000701 implements MigrationInterface {
  name = 'CreateEmailDeliveries1764000000701';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE email_deliveries (
        notification_id uuid PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
        due_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        given_up_at timestamptz
      )`);
    await runner.query('CREATE INDEX email_deliveries_due ON email_deliveries (due_at) WHERE given_up_at IS NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE email_deliveries');
  }
}
