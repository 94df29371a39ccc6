import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Orders that failed: a shipment already created for one is CANCELLED, and the order is
 * remembered so that a payment-completed arriving after the failure creates no shipment.
 */
export class CancelShipmentsOfFailedOrders1764000000501 implements MigrationInterface {
  name = 'CancelShipmentsOfFailedOrders1764000000501';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE shipments ADD COLUMN cancelled_at timestamptz');
    await runner.query(`
      CREATE TABLE cancelled_orders (
        order_id uuid PRIMARY KEY,
        reason text NOT NULL,
        cancelled_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE cancelled_orders');
    await runner.query('ALTER TABLE shipments DROP COLUMN cancelled_at');
  }
}
