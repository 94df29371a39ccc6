import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A shipment remembers the customer whose order it ships (from payment-completed), so that only
 * they (or an admin) read it, whoever calls (issue 15, ADR 0038). Shipments created before this,
 * or from a payment-completed that names no customer, are read by admins only.
 */
export class RememberWhoseShipmentItIs1764000000520 implements MigrationInterface {
  name = 'RememberWhoseShipmentItIs1764000000520';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE shipments ADD COLUMN customer_id text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE shipments DROP COLUMN customer_id');
  }
}
