import { Logger } from '@nestjs/common';
import { AsyncResource } from 'node:async_hooks';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { DataSource } from 'typeorm';
import type { Envelope } from '@contracts/kernel';
import { SpanKind, startSpan } from '@infra/observability';
import { inPipelinedTransaction, poolOf } from '@infra/persistence';
import type { EventPublisher } from './event-transport';

export interface OutboxDispatcherOptions {
  readonly context: string;
  /** The table the rows are in: `outbox`, or the event store that doubles as it. */
  readonly table: string;
  readonly dataSource: DataSource;
  /** Subscribers in this process. */
  readonly local: EventPublisher;
  /** The broker, when other processes consume the context's events. */
  readonly remote?: EventPublisher;
  /** Rows under way at most; past it, committed rows are left to the relay. */
  readonly maxInFlight?: number;
  /**
   * How long delivered rows wait to be marked sent, so that one statement marks many: nobody waits
   * for the mark (default 100 ms).
   */
  readonly markLingerMs?: number;
  /** Called when rows were left to the relay (too many under way, or a delivery failed). */
  readonly leftToRelay: () => void;
}

/**
 * Hands the events a transaction committed to their subscribers right after the commit, the way
 * Spring Modulith's event publication registry does: the outbox row is the durable record, and
 * only what a crash, a failure or an overload leaves unsent goes the slow way, through the relay's
 * claim. In one process an event then costs no NOTIFY, no claim and no per-batch transaction:
 * only the subscribers' own work and, batched over many events, the mark that it was sent.
 *
 * - Order: events of one aggregate are delivered one after another, in commit order (writers of
 *   an aggregate take its lock, so their commits are ordered); different aggregates go at once.
 * - The broker (split topologies) gets what was committed in batches: while one is in flight, the
 *   next gathers.
 * - A row is marked sent once every subscriber here and the broker have it; until then the relay
 *   leaves it alone (`inFlight`). A failure leaves the row unmarked for the relay to send again,
 *   and inboxes absorb what some subscribers had already processed.
 * - Deliveries start in the dispatcher's own async context, not the committing code's, as a
 *   broker's would: the committing code may be a call made from another context's open
 *   transaction (its unit of work is found through AsyncLocalStorage), which a subscriber of that
 *   context would otherwise join; and the transaction that just committed is over. Each delivery
 *   hangs below its event's trace by the envelope's traceparent, not by the caller's span.
 */
export class OutboxDispatcher {
  private readonly logger: Logger;
  /** Message ids handed over and not yet marked sent. */
  private readonly underWay = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly pending = new Map<string, { local: boolean; remote: boolean; span: Span }>();
  private readonly toMark: string[] = [];
  private marking?: Promise<void>;
  private remoteQueue: Envelope[] = [];
  private remoteSending?: Promise<void>;
  private readonly settling = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly maxInFlight: number;
  /** Ends the wait before the next mark at once (on stop, on settle). */
  private hurry?: () => void;
  /** Callers of settle() waiting: marks go out without lingering meanwhile. */
  private settlers = 0;
  /** The async context deliveries start in: the one the dispatcher was made in, outside any request. */
  private readonly scope = new AsyncResource('ficus.OutboxDispatcher');

  constructor(private readonly options: OutboxDispatcherOptions) {
    this.logger = new Logger(`OutboxDispatcher(${options.context})`);
    this.maxInFlight = options.maxInFlight ?? 512;
  }

  /** Message ids the relay must leave alone: they are being delivered here. */
  inFlight(): string[] {
    return [...this.underWay];
  }

  /**
   * Events a transaction just committed (never called for a rollback). Nothing in `handOver` may
   * set an async context for what follows (`AsyncLocalStorage.enterWith`, OpenTelemetry's
   * `context.attach`): on Node 20 it would stay on the shared scope, in every later delivery.
   */
  committed(envelopes: readonly Envelope[]): void {
    this.scope.runInAsyncScope(() => this.handOver(envelopes));
  }

  private handOver(envelopes: readonly Envelope[]): void {
    let leftOver = false;
    for (const envelope of envelopes) {
      if (this.stopped || this.underWay.size >= this.maxInFlight) {
        leftOver = true;
        continue;
      }
      // A publish span per event, child of what caused it, as the relay makes: consumers hang below it.
      const { span, traceparent } = startSpan(`publish ${envelope.type}`, {
        kind: SpanKind.PRODUCER,
        parent: envelope.traceparent,
        attributes: { 'ficus.context': this.options.context, 'messaging.message.id': envelope.id },
      });
      const published = { ...envelope, traceparent };
      this.underWay.add(envelope.id);
      this.pending.set(envelope.id, { local: false, remote: !this.options.remote, span });
      this.deliverLocally(published);
      if (this.options.remote) this.queueRemote(published);
    }
    if (leftOver) this.options.leftToRelay();
  }

  /** Resolves once every delivery handed over so far is done and marked (marks at once, no linger). */
  async settle(): Promise<void> {
    this.settlers += 1;
    try {
      while (this.settling.size > 0) {
        this.hurry?.();
        await Promise.allSettled([...this.settling]);
      }
    } finally {
      this.settlers -= 1;
    }
  }

  /** Lets deliveries under way finish and marks what they sent; later commits go to the relay. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.hurry?.();
    while (this.settling.size > 0) await Promise.allSettled([...this.settling]);
  }

  private deliverLocally(envelope: Envelope): void {
    const aggregate = envelope.aggregateId;
    const previous = this.chains.get(aggregate);
    const delivery = (previous ?? Promise.resolve()).then(async () => {
      try {
        await this.options.local.publish([envelope]);
        this.done(envelope.id, 'local');
      } catch (error) {
        this.failed([envelope], error);
      }
    });
    this.chains.set(aggregate, delivery);
    this.track(
      delivery.finally(() => {
        if (this.chains.get(aggregate) === delivery) this.chains.delete(aggregate);
      }),
    );
  }

  private queueRemote(envelope: Envelope): void {
    this.remoteQueue.push(envelope);
    if (!this.remoteSending) this.remoteSending = this.track(this.sendRemote());
  }

  /** One batch to the broker at a time; what was committed meanwhile goes in the next. */
  private async sendRemote(): Promise<void> {
    try {
      while (this.remoteQueue.length > 0) {
        const batch = this.remoteQueue;
        this.remoteQueue = [];
        try {
          await this.options.remote!.publish(batch);
          for (const envelope of batch) this.done(envelope.id, 'remote');
        } catch (error) {
          this.failed(batch, error);
        }
      }
    } finally {
      this.remoteSending = undefined;
    }
  }

  private done(id: string, side: 'local' | 'remote'): void {
    const state = this.pending.get(id);
    if (!state) return; // failed on the other side: the relay sends it again
    state[side] = true;
    if (!state.local || !state.remote) return;
    state.span.end();
    this.pending.delete(id);
    this.toMark.push(id);
    if (!this.marking) this.marking = this.track(this.mark());
  }

  private failed(envelopes: readonly Envelope[], error: unknown): void {
    this.logger.warn(
      { err: error, events: envelopes.length, messageIds: envelopes.map((envelope) => envelope.id) },
      'delivery failed; the relay sends the events again',
    );
    for (const { id } of envelopes) {
      const state = this.pending.get(id);
      state?.span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      state?.span.end();
      this.pending.delete(id);
      this.underWay.delete(id);
    }
    this.options.leftToRelay();
  }

  /**
   * Marks delivered rows sent, as many as have gathered, in one round trip. Asynchronous commit:
   * a mark lost in a crash means the row is sent again, which inboxes absorb.
   */
  private async mark(): Promise<void> {
    try {
      while (this.toMark.length > 0) {
        if (!this.stopped && this.settlers === 0) await this.linger();
        const ids = this.toMark.splice(0);
        try {
          await inPipelinedTransaction(poolOf(this.options.dataSource), async (transaction) => {
            transaction.defer('SET LOCAL synchronous_commit TO off');
            transaction.defer(
              `UPDATE ${this.options.table} SET published_at = now() WHERE message_id = ANY($1::uuid[])`,
              [ids],
            );
          });
        } catch (error) {
          // Delivered but not marked: the relay sends them again later, inboxes absorb them.
          this.logger.warn({ err: error, events: ids.length }, 'could not mark delivered events sent');
        } finally {
          ids.forEach((id) => this.underWay.delete(id));
        }
      }
    } finally {
      this.marking = undefined;
    }
  }

  private linger(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.options.markLingerMs ?? 100);
      timer.unref();
      const hurry = () => {
        clearTimeout(timer);
        done();
      };
      this.hurry = hurry;
      function done() {
        resolve();
      }
    }).finally(() => {
      this.hurry = undefined;
    });
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.settling.add(work);
    void work.finally(() => this.settling.delete(work)).catch(() => undefined);
    return work;
  }
}
