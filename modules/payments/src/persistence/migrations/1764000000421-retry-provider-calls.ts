import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A charge or a refund the provider could not take now is due again on the payment's own row
 * (ProviderRetries), rather than held in the consumer that brought its event: over Kafka, that
 * held every later event of its partition, other customers' orders included, until the saga's
 * deadline. Rolling back to the release before this one needs none of them due (`SELECT order_id
 * FROM payments.payments WHERE provider_retry IS NOT NULL`): that release would never make them.
 */
export class RetryProviderCalls1764000000421 implements MigrationInterface {
  name = 'RetryProviderCalls1764000000421';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE payments
        ADD COLUMN provider_retry text CHECK (provider_retry IN ('charge', 'refund')),
        ADD COLUMN provider_retry_due_at timestamptz,
        ADD COLUMN provider_retry_attempts integer NOT NULL DEFAULT 0,
        ADD COLUMN provider_retry_origin jsonb,
        ADD COLUMN provider_retry_reason text,
        ADD COLUMN provider_retry_last_error text`);
    await runner.query(
      'CREATE INDEX payments_provider_retry_due ON payments (provider_retry_due_at) WHERE provider_retry IS NOT NULL',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX payments_provider_retry_due');
    await runner.query(`
      ALTER TABLE payments DROP COLUMN provider_retry, DROP COLUMN provider_retry_due_at,
        DROP COLUMN provider_retry_attempts, DROP COLUMN provider_retry_origin, DROP COLUMN provider_retry_reason,
        DROP COLUMN provider_retry_last_error`);
  }
}
