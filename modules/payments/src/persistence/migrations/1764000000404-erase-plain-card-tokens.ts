import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Erases the plain-text card tokens of a range of payments that no charge can need any more
 * (settled, or their order failed); returns the last payment of the range, none when past the end.
 */
const ERASE_BATCH = `
  WITH batch AS (SELECT order_id FROM payments WHERE order_id > $1 ORDER BY order_id LIMIT 1000),
       erased AS (
         UPDATE payments p SET token = NULL
           FROM batch
          WHERE p.order_id = batch.order_id AND p.token IS NOT NULL AND (p.status <> 'PENDING' OR p.order_failed))
  SELECT order_id FROM batch ORDER BY order_id DESC LIMIT 1`;

/**
 * Card tokens that releases before the vault kept in plain text in `payments.token` (ADR 0037):
 * those of payments charged, declined or whose order failed go now. A pending payment's token
 * stays until it is charged or cancelled (this release erases it then), because the previous
 * release, still running during the rollout, charges from it. What is left goes with the column,
 * in the contract release.
 *
 * Outside a transaction on purpose, a range of rows at a time, and idempotent (see
 * BackfillStockOnHand1764000000203).
 */
export class ErasePlainCardTokens1764000000404 implements MigrationInterface {
  name = 'ErasePlainCardTokens1764000000404';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const [last] = (await runner.query(ERASE_BATCH, [after])) as Array<{ order_id: string }>;
      if (!last) return;
      after = last.order_id;
    }
  }

  async down(): Promise<void> {
    // An erased token is gone, as intended.
  }
}
