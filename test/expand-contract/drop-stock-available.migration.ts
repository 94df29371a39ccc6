import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Contract step of `stock.available` → `stock.on_hand` (docs/expand-contract.md), not shipped yet:
 * the linter refuses it until AddStockOnHand1764000000202 is released, and it may only run once no
 * release that writes `available` is left. It then moves, unchanged, to
 * modules/inventory/src/persistence/migrations/1764000000204-drop-stock-available.ts and into
 * InventoryModule's migrations. Until then test/expand-contract/stock-on-hand.test.ts applies it.
 */
export class DropStockAvailable1764000000204 implements MigrationInterface {
  name = 'DropStockAvailable1764000000204';
  static readonly contractOf = 'AddStockOnHand1764000000202';

  async up(runner: QueryRunner): Promise<void> {
    // Rows still missed (a backfill that never ran, or ran as an interrupted job) fail no SET NOT NULL.
    await runner.query('UPDATE stock SET on_hand = available + reserved WHERE on_hand IS NULL');
    await runner.query('DROP TRIGGER stock_on_hand_written ON stock');
    await runner.query('DROP TRIGGER stock_available_written ON stock');
    await runner.query('DROP TRIGGER stock_insert_fills_the_other_count ON stock');
    await runner.query('DROP FUNCTION stock_keep_on_hand_and_available()');
    await runner.query('ALTER TABLE stock ALTER COLUMN on_hand SET NOT NULL, DROP COLUMN available');
  }

  async down(): Promise<void> {
    throw new Error('DropStockAvailable1764000000204 cannot be undone: `available` is gone; roll forward instead');
  }
}
