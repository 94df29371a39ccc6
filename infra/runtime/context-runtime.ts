import {
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { CallContext, Contract, ContractApi, EventDefinition } from '@contracts/kernel';
import {
  ContractBus,
  DeadLetters,
  InboxConsumer,
  InProcessEventTransport,
  Outbox,
  OutboxDispatcher,
  OutboxRelay,
  type ConsumerRetryOptions,
  FanOutPublisher,
  type ContractImplementation,
  type EventPublisher,
  type IntegrationEventHandler,
} from '@infra/messaging';
import {
  deadLettersGauge,
  dbPoolConnectionsGauge,
  outboxBacklogGauge,
  outboxOldestAgeGauge,
  sharedRead,
  withinTime,
  type Observation,
} from '@infra/observability';
import { UnitOfWork } from '@infra/persistence';

export interface ContextOutboxOptions {
  /** The table the relay reads: `outbox`, or an event store that doubles as the outbox. */
  readonly table: string;
  /** Event types that leave the context; the rest are private to it. */
  readonly publishes?: (type: string) => boolean;
}

/** A context's messaging state, as /metrics shows it. */
export interface MessagingBacklog {
  /** Outbox rows not yet published. */
  readonly outbox: number;
  /** Age of the oldest of them, 0 when there is none. */
  readonly oldestUnpublishedSeconds: number;
  /** Dead letters not yet replayed. */
  readonly deadLetters: number;
}

/** The context's database pool now (pg's Pool counters). */
export interface PoolUsage {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

export interface ReadinessReport {
  readonly context: string;
  readonly ready: boolean;
  readonly detail: string;
}

export interface ContextRuntimeOptions {
  readonly context: string;
  readonly dataSource: DataSource;
  readonly connectionUrl: string;
  readonly outbox: ContextOutboxOptions;
  readonly bus: ContractBus;
  readonly events: InProcessEventTransport;
  readonly retry: ConsumerRetryOptions;
  /** Where events go besides this process's subscribers (a broker, when other processes consume them). */
  readonly remotePublisher?: EventPublisher;
  /** Runs only to serve calls shifted to it while extracted (ADR 0034): no relay, no consumers. */
  readonly servesCallsOnly?: boolean;
}

/**
 * Everything one bounded context runs on in this process: its data source and unit of work, its
 * outbox and relay, its inbox consumers and dead letters, and its registrations on the bus. What a
 * module declares in `FicusModule.forContext` (serves, consumes) is wired here by `ContextWiring`.
 */
export class ContextRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly uow: UnitOfWork;
  readonly outbox: Outbox;
  readonly deadLetters: DeadLetters;
  readonly relay: OutboxRelay;
  /** Delivers what a transaction of this context committed, right after the commit. */
  readonly dispatcher?: OutboxDispatcher;
  /** The table the relay reads: `outbox`, or the event store that doubles as it. */
  readonly outboxTable: string;
  private readonly consumers = new Map<string, InboxConsumer<EventDefinition>>();
  private readonly logger: Logger;
  private observations: Observation[] = [];

  readonly context: string;
  readonly dataSource: DataSource;
  /** The context's own connection URL (its role), for LISTEN and for adapters that open their own connections. */
  readonly connectionUrl: string;
  /**
   * The context runs here only to serve calls shifted to it while it is extracted: its owner
   * relays its outbox and consumes its events, so this copy starts no relay (ADR 0034).
   */
  readonly servesCallsOnly: boolean;
  private readonly bus: ContractBus;
  private readonly events: InProcessEventTransport;
  private readonly retry: ConsumerRetryOptions;

  constructor(options: ContextRuntimeOptions) {
    const { context, dataSource, connectionUrl, outbox, events, remotePublisher } = options;
    const servesCallsOnly = options.servesCallsOnly ?? false;
    this.context = context;
    this.dataSource = dataSource;
    this.connectionUrl = connectionUrl;
    this.servesCallsOnly = servesCallsOnly;
    this.bus = options.bus;
    this.events = events;
    this.retry = options.retry;
    this.logger = new Logger(`Context(${context})`);
    this.outboxTable = outbox.table;
    this.uow = new UnitOfWork(context, dataSource);
    // A copy that only serves calls delivers nothing: its owner's relay does, woken by NOTIFY.
    const dispatcher = servesCallsOnly
      ? undefined
      : new OutboxDispatcher({
          context,
          table: outbox.table,
          dataSource,
          local: events,
          remote: remotePublisher,
          leftToRelay: () => this.relay.wake(),
        });
    this.dispatcher = dispatcher;
    this.outbox = new Outbox(this.uow, {
      table: outbox.table,
      publishes: outbox.publishes,
      onCommitted: dispatcher && ((envelopes) => dispatcher.committed(envelopes)),
      notifyRelay: servesCallsOnly,
    });
    this.deadLetters = new DeadLetters(this.uow, this.consumers);
    this.relay = new OutboxRelay({
      context,
      dataSource,
      listenUrl: connectionUrl,
      table: outbox.table,
      publisher: remotePublisher ? new FanOutPublisher([events, remotePublisher]) : events,
      publishes: outbox.publishes,
      inFlight: dispatcher && (() => dispatcher.inFlight()),
    });
  }

  serve<C extends Contract>(contract: C, implementation: ContractApi<C>): void {
    if (contract.context !== this.context) {
      throw new Error(`${this.context} cannot serve ${contract.name}, a contract of ${contract.context}`);
    }
    this.bus.serve(contract, servedApart(contract, implementation as unknown as ContractImplementation, this.uow));
  }

  consume<E extends EventDefinition>(definition: E, handler: IntegrationEventHandler<E>): void {
    const consumer = new InboxConsumer(this.context, definition, handler, this.uow, this.retry);
    this.consumers.set(consumer.consumer, consumer as unknown as InboxConsumer<EventDefinition>);
    this.events.subscribe(consumer);
  }

  /**
   * Delivers and marks sent everything committed so far: what the dispatcher has under way, then
   * what is left for the relay. For tests and benchmarks that check the outbox afterwards.
   */
  async flushOutbox(): Promise<void> {
    await this.dispatcher?.settle();
    await this.relay.flush();
  }

  /** The inbox consumers of this context, one per event type it handles. */
  inboxConsumers(): ReadonlyArray<InboxConsumer<EventDefinition>> {
    return [...this.consumers.values()];
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.servesCallsOnly) await this.relay.start();
    this.observeMetrics();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.observations.forEach((observation) => observation.forget());
    this.observations = [];
    await this.dispatcher?.stop();
    await this.relay.stop();
  }

  /**
   * Unpublished outbox rows and unreplayed dead letters, in one round trip. Both counts use
   * partial indexes (`published_at IS NULL` on every outbox; dead letters stay few), so a scrape
   * every 15 s costs next to nothing.
   */
  async messagingBacklog(): Promise<MessagingBacklog> {
    const table = this.dataSource.driver.escape(this.outboxTable);
    const [row] = (await this.dataSource.query(
      `SELECT o.backlog, o.oldest, d.dead_letters
         FROM (SELECT count(*)::int AS backlog,
                      COALESCE(EXTRACT(EPOCH FROM now() - min(occurred_at)), 0)::float8 AS oldest
                 FROM ${table} WHERE published_at IS NULL) o,
              (SELECT count(*)::int AS dead_letters FROM dead_letters WHERE replayed_at IS NULL) d`,
    )) as Array<{ backlog: number; oldest: number; dead_letters: number }>;
    return { outbox: row.backlog, oldestUnpublishedSeconds: Math.max(0, row.oldest), deadLetters: row.dead_letters };
  }

  /** The connections of this context's pool, or nothing when the data source is closed. */
  poolUsage(): PoolUsage | undefined {
    // TypeORM's PostgreSQL driver keeps its pg Pool as `master` (no replicas are configured).
    const pool = (this.dataSource.driver as unknown as { master?: Pool }).master;
    if (!this.dataSource.isInitialized || !pool) return undefined;
    return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
  }

  private observeMetrics(): void {
    const context = this.context;
    // One read per scrape for all four gauges. The pool is looked at before the backlog query
    // takes a connection from it, so that the scrape does not count itself as a waiting caller.
    const snapshot = sharedRead(async () => {
      const pool = this.poolUsage();
      const backlog = await this.messagingBacklog().catch(() => undefined);
      return { pool, backlog };
    });
    const fromBacklog = (value: (backlog: MessagingBacklog) => number) => async () => {
      const { backlog } = await snapshot();
      return backlog ? [{ labels: { context }, value: value(backlog) }] : [];
    };
    this.observations = [
      outboxBacklogGauge.observe(fromBacklog((backlog) => backlog.outbox)),
      outboxOldestAgeGauge.observe(fromBacklog((backlog) => backlog.oldestUnpublishedSeconds)),
      deadLettersGauge.observe(fromBacklog((backlog) => backlog.deadLetters)),
      dbPoolConnectionsGauge.observe(async () => {
        const { pool } = await snapshot();
        if (!pool) return [];
        return (['total', 'idle', 'waiting'] as const).map((state) => ({
          labels: { context, state },
          value: pool[state],
        }));
      }),
    ];
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) {
      await this.dataSource.destroy();
    }
  }

  /**
   * Whether this context reaches its database with its migrations applied. One answer serves
   * every /ready within a second, and concurrent ones share the probe in flight: a burst of
   * probes is one `SELECT 1`, not one each. Applied migrations stay applied, so they are checked
   * until they are, then no more. A probe gives up after a second (a pool with no free
   * connection, a server that does not answer). What went wrong goes to the log, not the answer.
   */
  readonly readiness: () => Promise<ReadinessReport> = sharedRead(() => this.probeReadiness(), READINESS_SHARED_MS);
  private migrationsApplied = false;

  private async probeReadiness(): Promise<ReadinessReport> {
    try {
      await withinTime(this.dataSource.query('SELECT 1'), READINESS_TIMEOUT_MS);
      if (!this.migrationsApplied) {
        if (await withinTime(this.dataSource.showMigrations(), READINESS_TIMEOUT_MS)) {
          return { context: this.context, ready: false, detail: 'migrations pending' };
        }
        this.migrationsApplied = true;
      }
      return { context: this.context, ready: true, detail: 'up' };
    } catch (error) {
      this.logger.warn({ err: error }, 'not ready');
      return { context: this.context, ready: false, detail: 'the database does not answer' };
    }
  }
}

const READINESS_SHARED_MS = 1_000;
const READINESS_TIMEOUT_MS = 1_000;

/**
 * The implementation as the bus calls it: each call apart from any transaction of this context
 * that its caller has open, as it is when the call comes over gRPC. Without it, a cycle in one
 * process (x calls y inside a transaction of x, and y calls x back) would have the inner call join
 * x's open transaction: it would see x's uncommitted writes and be rolled back with x, where split
 * the same inner call commits on its own. Now it behaves as split in every way, including the bad
 * one: an inner call that needs a row x holds locked waits for it while x waits for the call,
 * which PostgreSQL cannot see as a deadlock; the caller's deadline ends it. A stream's every step,
 * and its clean-up, runs apart too (an async generator resumes in the async context of whoever
 * asks for its next item).
 */
function servedApart(contract: Contract, implementation: ContractImplementation, uow: UnitOfWork) {
  const served: ContractImplementation = {};
  for (const [name, method] of Object.entries(contract.methods)) {
    const fn = implementation[name] as ((ctx: CallContext, request: unknown) => unknown) | undefined;
    if (typeof fn !== 'function') continue; // the bus says which method is missing
    const call = (ctx: CallContext, request: unknown): unknown => fn.call(implementation, ctx, request);
    served[name] =
      method.kind === 'unary'
        ? (ctx: CallContext, request: unknown) => uow.apart(() => call(ctx, request))
        : (ctx: CallContext, request: unknown) => streamApart(uow, () => call(ctx, request) as AsyncIterable<unknown>);
  }
  return served;
}

async function* streamApart(uow: UnitOfWork, open: () => AsyncIterable<unknown>): AsyncIterable<unknown> {
  const items = uow.apart(() => open()[Symbol.asyncIterator]());
  try {
    for (;;) {
      const next = await uow.apart(() => items.next());
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await uow.apart(() => items.return?.());
  }
}
