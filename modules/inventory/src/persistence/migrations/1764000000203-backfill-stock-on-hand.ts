import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A batch of rows that no one wrote since AddStockOnHand1764000000202, filled the way its triggers would. */
const FILL_BATCH = `
  UPDATE stock SET on_hand = available + reserved
   WHERE on_hand IS NULL
     AND sku IN (SELECT sku FROM stock WHERE on_hand IS NULL ORDER BY sku LIMIT 500)`;

/**
 * Migrate-data step of `stock.available` → `stock.on_hand` (docs/expand-contract.md). Idempotent
 * (only rows still NULL), so a start that dies half-way simply runs it again. Outside a
 * transaction on purpose: each batch commits on its own, so rows stay locked for one batch, not
 * for the whole table, while both releases keep writing.
 */
export class BackfillStockOnHand1764000000203 implements MigrationInterface {
  name = 'BackfillStockOnHand1764000000203';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    for (;;) {
      const [, updated] = (await runner.query(FILL_BATCH)) as [unknown[], number];
      if (updated === 0) return;
    }
  }

  async down(): Promise<void> {
    // Nothing to undo: AddStockOnHand1764000000202's down drops the column.
  }
}
