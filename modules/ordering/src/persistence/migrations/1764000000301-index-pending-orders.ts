import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The saga deadline sweep looks for orders still PENDING, oldest first, every few seconds: an
 * index of just those keeps the sweep cheap however many settled orders there are.
 */
export class IndexPendingOrders1764000000301 implements MigrationInterface {
  name = 'IndexPendingOrders1764000000301';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query("CREATE INDEX order_history_pending ON order_history (created_at) WHERE status = 'PENDING'");
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX order_history_pending');
  }
}
