import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateShipments1764000000500 implements MigrationInterface {
  name = 'CreateShipments1764000000500';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE shipments (
        shipment_id uuid PRIMARY KEY,
        order_id uuid NOT NULL UNIQUE,
        tracking_number text NOT NULL UNIQUE,
        status text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE shipments');
  }
}
