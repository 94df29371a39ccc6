import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreatePayments1764000000400 implements MigrationInterface {
  name = 'CreatePayments1764000000400';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE payments (
        order_id uuid PRIMARY KEY,
        amount_minor integer NOT NULL CHECK (amount_minor >= 0),
        currency char(3) NOT NULL,
        token text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED')),
        provider_reference text,
        failure_reason text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The fake provider's own books (see FakePaymentProvider); a real provider keeps these itself.
    await runner.query(`
      CREATE TABLE fake_provider_charges (
        idempotency_key text PRIMARY KEY,
        amount_minor integer NOT NULL,
        currency char(3) NOT NULL,
        outcome text NOT NULL,
        reference text,
        reason text,
        charged_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE fake_provider_charges');
    await runner.query('DROP TABLE payments');
  }
}
