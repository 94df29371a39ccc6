import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStock1764000000200 implements MigrationInterface {
  name = 'CreateStock1764000000200';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE stock (
        sku text PRIMARY KEY,
        available integer NOT NULL CHECK (available >= 0),
        reserved integer NOT NULL CHECK (reserved >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE reservations (
        order_id uuid PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('RESERVED', 'REJECTED', 'RELEASED', 'COMMITTED')),
        lines jsonb NOT NULL,
        unavailable_skus jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz,
        committed_at timestamptz
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE reservations');
    await runner.query('DROP TABLE stock');
  }
}
