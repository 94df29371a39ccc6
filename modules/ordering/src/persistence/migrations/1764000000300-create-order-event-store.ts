import type { MigrationInterface, QueryRunner } from 'typeorm';
import { OUTBOX_COLUMNS_SQL } from '@infra/persistence';

/**
 * The order event store. It has the outbox's columns and is the outbox of this context: the
 * relay publishes its integration events from here, so an order's change and the event that
 * announces it are one row, written once.
 */
export class CreateOrderEventStore1764000000300 implements MigrationInterface {
  name = 'CreateOrderEventStore1764000000300';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE order_events (
        ${OUTBOX_COLUMNS_SQL},
        stream_version integer NOT NULL,
        UNIQUE (aggregate_id, stream_version)
      )`);
    await runner.query('CREATE INDEX order_events_unpublished ON order_events (seq) WHERE published_at IS NULL');
    await runner.query(`
      CREATE TABLE order_idempotency_keys (
        customer_id text NOT NULL,
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        order_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (customer_id, idempotency_key)
      )`);
    await runner.query(`
      CREATE TABLE order_history (
        order_id uuid PRIMARY KEY,
        customer_id text NOT NULL,
        status text NOT NULL,
        total_minor integer NOT NULL,
        currency char(3) NOT NULL,
        item_count integer NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        last_version integer NOT NULL
      )`);
    await runner.query('CREATE INDEX order_history_by_customer ON order_history (customer_id, created_at DESC)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE order_history');
    await runner.query('DROP TABLE order_idempotency_keys');
    await runner.query('DROP TABLE order_events');
  }
}
