import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateProducts1764000000100 implements MigrationInterface {
  name = 'CreateProducts1764000000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE products (
        sku text PRIMARY KEY,
        name text NOT NULL,
        price_minor integer NOT NULL CHECK (price_minor > 0),
        currency char(3) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE products');
  }
}
