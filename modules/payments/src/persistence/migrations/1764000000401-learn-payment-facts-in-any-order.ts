import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A payment row may now be started by either fact (order created, stock reserved): the amount
 * and token are unknown until order-created arrives, and the stock mark is kept.
 */
export class LearnPaymentFactsInAnyOrder1764000000401 implements MigrationInterface {
  name = 'LearnPaymentFactsInAnyOrder1764000000401';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payments ALTER COLUMN amount_minor DROP NOT NULL');
    await runner.query('ALTER TABLE payments ALTER COLUMN currency DROP NOT NULL');
    await runner.query('ALTER TABLE payments ALTER COLUMN token DROP NOT NULL');
    await runner.query('ALTER TABLE payments ADD COLUMN stock_reserved boolean NOT NULL DEFAULT false');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payments DROP COLUMN stock_reserved');
  }
}
