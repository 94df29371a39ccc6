import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An idempotency key is claimed (committed at once, so a concurrent duplicate sees it in use)
 * before its order is placed, and completed in the order's own transaction; keys expire. Keys
 * stored before this migration all belong to placed orders: they are complete.
 */
export class ExpireIdempotencyKeys1764000000302 implements MigrationInterface {
  name = 'ExpireIdempotencyKeys1764000000302';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE order_idempotency_keys ADD COLUMN completed_at timestamptz, ADD COLUMN held_until timestamptz');
    await runner.query('UPDATE order_idempotency_keys SET completed_at = created_at');
    await runner.query('CREATE INDEX order_idempotency_keys_by_age ON order_idempotency_keys (created_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX order_idempotency_keys_by_age');
    await runner.query('DELETE FROM order_idempotency_keys WHERE completed_at IS NULL');
    await runner.query('ALTER TABLE order_idempotency_keys DROP COLUMN completed_at, DROP COLUMN held_until');
  }
}
