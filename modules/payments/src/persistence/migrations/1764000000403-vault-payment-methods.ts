import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Payments' vault of card tokens (ADR 0037): a token held for a customer, sealed with the
 * key-encryption key (bound to its id), taken by at most one order, and erased (`sealed_token`
 * NULL) once no charge can need it. A payment names its payment method instead of keeping the
 * token; `payments.token` is left to rows the previous release writes, until the contract release.
 */
export class VaultPaymentMethods1764000000403 implements MigrationInterface {
  name = 'VaultPaymentMethods1764000000403';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE payment_methods (
        id uuid PRIMARY KEY,
        customer_id text NOT NULL,
        sealed_token text,
        order_id uuid UNIQUE,
        held_at timestamptz NOT NULL DEFAULT now()
      )`);
    // What the sweep erases: held, and never taken by an order.
    await runner.query('CREATE INDEX payment_methods_unused ON payment_methods (held_at) WHERE order_id IS NULL');
    await runner.query('ALTER TABLE payments ADD COLUMN payment_method_id uuid');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payments DROP COLUMN payment_method_id');
    await runner.query('DROP TABLE payment_methods');
  }
}
