import { Logger } from '@nestjs/common';
import { AsyncResource } from 'node:async_hooks';
import type { DataSource } from 'typeorm';
import { SpanStatusCode } from '@opentelemetry/api';
import type { Envelope } from '@contracts/kernel';
import { SpanKind, startSpan } from '@infra/observability';
import { ChannelListener, inPipelinedTransaction, poolOf } from '@infra/persistence';
import type { EventPublisher } from './event-transport';
import { outboxChannel } from './outbox';

export interface OutboxRelayOptions {
  readonly context: string;
  readonly dataSource: DataSource;
  /** Connection URL for the LISTEN connection (the context's own). */
  readonly listenUrl: string;
  readonly table: string;
  readonly publisher: EventPublisher;
  /** Which event types leave the context; rows of other types are only marked sent. */
  readonly publishes?: (type: string) => boolean;
  readonly batchSize?: number;
  /**
   * How often to look for rows nobody delivered: a process that crashed between a commit and its
   * delivery, a delivery that failed, a wake-up lost while the LISTEN connection reconnected.
   */
  readonly sweepIntervalMs?: number;
  /**
   * Rows this process is delivering right now (OutboxDispatcher): the relay leaves them alone.
   * Unset: the relay delivers every row itself.
   */
  readonly inFlight?: () => readonly string[];
  /**
   * A periodic sweep takes only rows older than this: younger ones are most likely being
   * delivered by the process that wrote them (another replica's dispatcher).
   */
  readonly sweepGraceMs?: number;
}

interface OutboxRow {
  seq: string;
  message_id: string;
  type: string;
  version: number;
  aggregate_id: string;
  correlation_id: string;
  causation_id: string | null;
  traceparent: string | null;
  payload: unknown;
  occurred_at: Date;
}

/**
 * Moves committed outbox rows that no dispatcher delivered to the event transport: what a process
 * could not deliver right after its commit (too many under way, a failure), what a crash left
 * behind, and what a copy that only serves calls wrote (it NOTIFYs, ADR 0034). It is woken by
 * NOTIFY, by its own process's dispatcher, and by a periodic sweep.
 *
 * Rows are claimed with FOR UPDATE SKIP LOCKED inside a transaction that also takes a
 * transaction-level advisory lock for the context: several replicas of a context may run relays,
 * but only one relays at a time, which keeps per-aggregate order. A row is marked sent only after
 * the transport took it; a crash in between means a redelivery, which consumers' inboxes absorb.
 *
 * Like the dispatcher's, its deliveries start in its own async context, whoever woke it: a
 * subscriber never joins a transaction of the code that called `wake` or `flush`.
 */
export class OutboxRelay {
  private readonly logger: Logger;
  private listener?: ChannelListener;
  private sweep?: NodeJS.Timeout;
  private running?: Promise<void>;
  private wakeAgain = false;
  /** The next drain takes young rows too (a wake-up, not the periodic sweep). */
  private urgent = false;
  private stopped = true;
  private failures = 0;
  /** The async context relaying runs in: the one the relay was made in, outside any request. */
  private readonly scope = new AsyncResource('ficus.OutboxRelay');

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = new Logger(`OutboxRelay(${options.context})`);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.listener = new ChannelListener({
      url: this.options.listenUrl,
      channel: outboxChannel(this.options.context),
      logger: this.logger,
      gapCoveredBy: 'the sweep',
      onNotification: () => this.wake(),
      onReconnected: () => this.wake(),
    });
    await this.listener.start();
    this.sweep = setInterval(() => this.wake({ sweep: true }), this.options.sweepIntervalMs ?? 5_000);
    this.sweep.unref();
    this.wake(); // what the last run of this context left behind
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweep) clearInterval(this.sweep);
    await this.running;
    await this.listener?.stop();
    this.listener = undefined;
  }

  /**
   * Relays until the outbox is empty; wake-ups during a run make it look again. A periodic sweep
   * (`sweep`) takes only rows older than the grace; any other wake-up takes every row.
   */
  wake(options: { sweep?: boolean } = {}): void {
    this.scope.runInAsyncScope(() => this.wakeNow(options));
  }

  private wakeNow(options: { sweep?: boolean }): void {
    if (this.stopped) return;
    if (!options.sweep) this.urgent = true;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Relays what is pending now; resolves when the outbox is empty. For tests and benchmarks. */
  flush(): Promise<void> {
    return this.scope.runInAsyncScope(async () => {
      while ((await this.relayBatches()) > 0) {
        // keep going until a transaction finds nothing
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.wakeAgain = false;
        const graceMs = this.urgent ? 0 : (this.options.sweepGraceMs ?? 5_000);
        this.urgent = false;
        while (!this.stopped && (await this.relayBatches(graceMs)) > 0) {
          this.failures = 0;
        }
      } while (this.wakeAgain && !this.stopped);
    } catch (error) {
      this.failures += 1;
      const delay = Math.min(5_000, 50 * 2 ** this.failures);
      this.logger.error({ err: error, retryInMs: delay }, 'relay failed; rows stay in the outbox');
      setTimeout(() => this.wake(), delay).unref();
    }
  }

  /**
   * Claims and publishes batches in one transaction, up to BATCHES_PER_TRANSACTION of them, and
   * returns how many rows it relayed. The claim of the next batch goes to PostgreSQL while the
   * current one is on its way to the broker, and each mark travels with the next claim (or the
   * COMMIT): draining a backlog runs at the broker's pace, not at the sum of both round trips.
   * Batches are published one after the other, in `seq` order. The transaction holds the context's
   * advisory lock, so one relay at a time relays; rows this process's dispatcher has under way are
   * left alone, and so, with a grace, are rows too young to be lost. A batch that fails to publish
   * ends the transaction there: the marks of the batches before it commit, and its error is thrown
   * after the COMMIT (it used to roll every mark of the transaction back, and the next attempt sent
   * up to 25 batches again from the first row).
   */
  private async relayBatches(graceMs = 0): Promise<number> {
    const { dataSource, table, context } = this.options;
    if (!dataSource.isInitialized) return 0;
    const { relayed, failed } = await inPipelinedTransaction(poolOf(dataSource), async (transaction) => {
      // Marking rows sent need not wait for the disk: if a crash loses the mark, the rows are
      // sent again and consumers' inboxes absorb them. This saves an fsync per transaction.
      transaction.defer('SET LOCAL synchronous_commit TO off');
      const batchSize = this.options.batchSize ?? 200;
      const inFlight = [...(this.options.inFlight?.() ?? [])];
      const claim = (afterSeq: string) =>
        transaction.query(
          `WITH relay AS (SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked)
           SELECT seq, message_id, type, version, aggregate_id, correlation_id, causation_id, traceparent, payload,
             occurred_at
             FROM ${table}, relay
            WHERE relay.locked AND published_at IS NULL AND seq > $5::bigint
              AND message_id <> ALL($3::uuid[])
              AND ($4::float8 = 0 OR occurred_at < now() - make_interval(secs => $4::float8 / 1000))
            ORDER BY seq LIMIT $2 FOR UPDATE OF ${table} SKIP LOCKED`,
          [`${outboxChannel(context)}:${table}`, batchSize, inFlight, graceMs, afterSeq],
        ) as Promise<OutboxRow[]>;
      let relayed = 0;
      let batch = await claim('0');
      for (let batches = 1; batch.length > 0; batches++) {
        const last = batch[batch.length - 1].seq;
        const next =
          batch.length === batchSize && batches < BATCHES_PER_TRANSACTION
            ? claim(last)
            : Promise.resolve([] as OutboxRow[]);
        next.catch(() => undefined); // a failed claim fails the transaction below, once
        try {
          await this.publish(batch);
        } catch (error) {
          await next.catch(() => undefined); // its rows stay claimed until the COMMIT, unmarked
          return { relayed, failed: { error } };
        }
        transaction.defer(`UPDATE ${table} SET published_at = now() WHERE seq = ANY($1::bigint[])`, [
          batch.map((row) => row.seq),
        ]);
        relayed += batch.length;
        batch = await next;
      }
      return { relayed, failed: undefined };
    });
    if (failed) throw failed.error;
    return relayed;
  }

  /** One claimed batch to the publisher, a publish span per event (child of what caused it). */
  private async publish(rows: readonly OutboxRow[]): Promise<void> {
    const { publisher, publishes, context } = this.options;
    // may throw: no span started yet
    const envelopes = rows.filter((row) => publishes?.(row.type) ?? true).map(toEnvelope);
    const published = envelopes.map((envelope) => {
      const { span, traceparent } = startSpan(`publish ${envelope.type}`, {
        kind: SpanKind.PRODUCER,
        parent: envelope.traceparent,
        attributes: { 'ficus.context': context, 'messaging.message.id': envelope.id },
      });
      return { span, envelope: { ...envelope, traceparent } };
    });
    try {
      await publisher.publish(published.map((p) => p.envelope));
    } catch (error) {
      published.forEach(({ span }) => span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) }));
      throw error;
    } finally {
      published.forEach(({ span }) => span.end());
    }
  }
}

/** Batches one relay transaction takes at most: its row locks and marks then commit, and progress shows. */
const BATCHES_PER_TRANSACTION = 25;

function toEnvelope(row: OutboxRow): Envelope {
  return {
    id: row.message_id,
    type: row.type,
    version: row.version,
    aggregateId: row.aggregate_id,
    correlationId: row.correlation_id,
    causationId: row.causation_id ?? undefined,
    traceparent: row.traceparent ?? undefined,
    occurredAt: row.occurred_at.toISOString(),
    payload: row.payload,
  };
}
