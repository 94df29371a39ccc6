import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Expand step of `stock.available` → `stock.on_hand` (docs/expand-contract.md). `available` is
 * the unreserved count and every write had to keep it right; `on_hand` is what stands on the
 * shelf (reserved goods included), the number a stock-take counts. Available becomes
 * `on_hand - reserved`.
 *
 * The previous release keeps running on this schema and writes only `available`; this release
 * writes only `on_hand`. Until the contract step the triggers keep each row's two counts in step,
 * whichever release wrote it: an UPDATE names the column its release knows (`UPDATE OF`), an
 * INSERT leaves the other one NULL. Rows nobody wrote since this migration keep `on_hand` NULL
 * until BackfillStockOnHand1764000000203 fills them.
 */
export class AddStockOnHand1764000000202 implements MigrationInterface {
  name = 'AddStockOnHand1764000000202';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE stock
        ADD COLUMN on_hand integer,
        ADD CONSTRAINT stock_on_hand_covers_reserved CHECK (on_hand >= reserved)`);
    await runner.query(`
      CREATE FUNCTION stock_keep_on_hand_and_available() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF NEW.on_hand IS NULL THEN
            NEW.on_hand := NEW.available + NEW.reserved;
          ELSIF NEW.available IS NULL THEN
            NEW.available := NEW.on_hand - NEW.reserved;
          END IF;
        ELSIF TG_ARGV[0] = 'available' THEN
          NEW.on_hand := NEW.available + NEW.reserved;
        ELSE
          NEW.available := NEW.on_hand - NEW.reserved;
        END IF;
        RETURN NEW;
      END
      $$`);
    await runner.query(`
      CREATE TRIGGER stock_insert_fills_the_other_count BEFORE INSERT ON stock
        FOR EACH ROW EXECUTE FUNCTION stock_keep_on_hand_and_available('insert')`);
    // The previous release: sets `available` (and `reserved`), never `on_hand`.
    await runner.query(`
      CREATE TRIGGER stock_available_written BEFORE UPDATE OF available ON stock
        FOR EACH ROW EXECUTE FUNCTION stock_keep_on_hand_and_available('available')`);
    // This release (and the backfill): sets `on_hand` (and `reserved`), never `available`.
    await runner.query(`
      CREATE TRIGGER stock_on_hand_written BEFORE UPDATE OF on_hand ON stock
        FOR EACH ROW EXECUTE FUNCTION stock_keep_on_hand_and_available('on_hand')`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TRIGGER stock_on_hand_written ON stock');
    await runner.query('DROP TRIGGER stock_available_written ON stock');
    await runner.query('DROP TRIGGER stock_insert_fills_the_other_count ON stock');
    await runner.query('DROP FUNCTION stock_keep_on_hand_and_available()');
    await runner.query('ALTER TABLE stock DROP CONSTRAINT stock_on_hand_covers_reserved, DROP COLUMN on_hand');
  }
}
