import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { MigrationClass } from './module-data-source';

/** The columns an outbox row has; ordering's event store has them too, so it doubles as its outbox. */
export const OUTBOX_COLUMNS_SQL = `
  seq bigserial PRIMARY KEY,
  message_id uuid NOT NULL UNIQUE,
  type text NOT NULL,
  version integer NOT NULL,
  aggregate_id text NOT NULL,
  correlation_id text NOT NULL,
  causation_id text,
  traceparent text,
  payload jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  published_at timestamptz`;

/**
 * Every context's messaging tables, in its own schema: outbox (unless its event store is the
 * outbox), inbox (one row per message a consumer has processed) and dead letters.
 */
export function messagingTablesMigration(options: { withOutbox: boolean }): MigrationClass {
  return class MessagingTables1764000000000 implements MigrationInterface {
    name = 'MessagingTables1764000000000';

    async up(runner: QueryRunner): Promise<void> {
      if (options.withOutbox) {
        await runner.query(`CREATE TABLE outbox (${OUTBOX_COLUMNS_SQL})`);
        await runner.query('CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL');
      }
      await runner.query(`
        CREATE TABLE inbox (
          message_id uuid NOT NULL,
          consumer text NOT NULL,
          processed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (message_id, consumer)
        )`);
      await runner.query(`
        CREATE TABLE dead_letters (
          id bigserial PRIMARY KEY,
          message_id uuid NOT NULL,
          consumer text NOT NULL,
          type text NOT NULL,
          version integer NOT NULL,
          envelope jsonb NOT NULL,
          reason text NOT NULL,
          attempts integer NOT NULL,
          failed_at timestamptz NOT NULL DEFAULT now(),
          replayed_at timestamptz,
          UNIQUE (message_id, consumer)
        )`);
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query('DROP TABLE dead_letters');
      await runner.query('DROP TABLE inbox');
      if (options.withOutbox) {
        await runner.query('DROP TABLE outbox');
      }
    }
  };
}
