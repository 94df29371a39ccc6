import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An account proves its mailbox before it signs in. Accounts made before this rule are taken as
 * confirmed (they signed in already); new ones are not until their token comes back. Tokens are
 * stored as SHA-256 hashes, single use, expiring.
 */
export class EmailConfirmation1764000000606 implements MigrationInterface {
  name = 'EmailConfirmation1764000000606';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE customers ADD COLUMN email_confirmed_at timestamptz');
    await runner.query('UPDATE customers SET email_confirmed_at = created_at');
    await runner.query(`
      CREATE TABLE email_confirmations (
        token_hash text PRIMARY KEY,
        customer_id uuid NOT NULL REFERENCES customers (customer_id),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX email_confirmations_customer ON email_confirmations (customer_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE email_confirmations');
    await runner.query('ALTER TABLE customers DROP COLUMN email_confirmed_at');
  }
}
