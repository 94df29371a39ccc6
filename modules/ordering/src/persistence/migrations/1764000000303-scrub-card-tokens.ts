import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Takes the card token out of the order-created v1 events in the store, a range of the store's
 * rows at a time; returns the last row of the range, none when past the end. Only events already
 * published: an unpublished one still goes to payments, which needs its token to charge it.
 */
const SCRUB_BATCH = `
  WITH batch AS (SELECT seq FROM order_events WHERE seq > $1 ORDER BY seq LIMIT 1000),
       scrubbed AS (
         UPDATE order_events e SET payload = e.payload - 'paymentToken'
           FROM batch
          WHERE e.seq = batch.seq AND e.type = 'ordering.order-created' AND e.version = 1
            AND e.payload ? 'paymentToken' AND e.published_at IS NOT NULL)
  SELECT seq FROM batch ORDER BY seq DESC LIMIT 1`;

/**
 * Card tokens out of ordering's event store (ADR 0037). Orders placed before order-created v2
 * carried the provider's token in plain text in their first event, and so in every copy of the
 * store; orders no longer hold one, and payments holds what it still needs, so published events
 * lose it. The event keeps its type and version, and a scrubbed order rebuilds as before (nothing
 * of an order's state came from its token).
 *
 * Outside a transaction on purpose: each batch commits on its own, so rows are locked one batch at
 * a time while the previous release may still be appending; idempotent, so a start that dies
 * half-way runs it again. Events it cannot take yet (unpublished now, or written by the previous
 * release during the rollout) are scrubbed by the same statement in the contract release.
 */
export class ScrubCardTokens1764000000303 implements MigrationInterface {
  name = 'ScrubCardTokens1764000000303';
  transaction = false;

  async up(runner: QueryRunner): Promise<void> {
    let after = '0';
    for (;;) {
      const [last] = (await runner.query(SCRUB_BATCH, [after])) as Array<{ seq: string }>;
      if (!last) return;
      after = last.seq;
    }
  }

  async down(): Promise<void> {
    // A token taken out is gone, as intended.
  }
}
