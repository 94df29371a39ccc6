import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A payment learns a third fact, that its order failed: from then on it is never charged, and a
 * captured one is refunded once. The fake provider's books get their refunds.
 */
export class RefundPaymentsOfFailedOrders1764000000402 implements MigrationInterface {
  name = 'RefundPaymentsOfFailedOrders1764000000402';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payments ADD COLUMN order_failed boolean NOT NULL DEFAULT false');
    await runner.query('ALTER TABLE payments ADD COLUMN refund_reference text');
    await runner.query('ALTER TABLE payments ADD COLUMN refunded_at timestamptz');
    // The fake provider's own books, next to its charges (see FakePaymentProvider).
    await runner.query(`
      CREATE TABLE fake_provider_refunds (
        idempotency_key text PRIMARY KEY,
        charge_reference text NOT NULL,
        amount_minor integer NOT NULL,
        currency char(3) NOT NULL,
        reference text NOT NULL,
        refunded_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE fake_provider_refunds');
    await runner.query('ALTER TABLE payments DROP COLUMN refunded_at');
    await runner.query('ALTER TABLE payments DROP COLUMN refund_reference');
    await runner.query('ALTER TABLE payments DROP COLUMN order_failed');
  }
}
