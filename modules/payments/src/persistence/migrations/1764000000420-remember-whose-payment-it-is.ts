import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A payment remembers the customer whose order it pays (from order-created), so that only they
 * (or an admin) read it, whoever calls (issue 15, ADR 0038). Payments opened before this know no
 * customer: an admin still reads them, nobody else.
 */
export class RememberWhosePaymentItIs1764000000420 implements MigrationInterface {
  name = 'RememberWhosePaymentItIs1764000000420';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payments ADD COLUMN customer_id text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payments DROP COLUMN customer_id');
  }
}
