import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { OrderConfirmed, OrderFailed } from '@contracts/ordering';
import { issueLocalCertificates } from '@infra/deploy/certs/local-ca';
import { topologyOnFreePorts } from '@infra/deploy/local/tcp-port';
import { launchTopology, type LaunchedTopology } from '@infra/deploy/local/topology-launcher';
import { ensureDatabase } from '@infra/persistence';
import { loadTopology, shippedTopologyPath } from '@infra/topology';
import { given } from '@infra/config';
import { startBenchDatabase, type BenchDatabase, type BenchDatabaseOptions } from './bench-database';
import { REST_MIN_AGE_MS, REST_SETTLE_MS, REST_WINDOW_MS } from './bench-scale';
import { benchKafka, benchKafkaBrokers, dropNamespace } from './bench-kafka';
import { post, signIn, signUp } from './bench-shop';
import { line, median } from './measure';
import { childrenOf, seconds, ticksOf, type ProcessTicks } from './process-cpu';

/**
 * The shop as real processes for a benchmark (launchTopology, from copies of the shipped topology
 * files on free ports), on an embedded PostgreSQL of the bench's own, and what the benchmarks
 * measure of it: orders posted through POST /orders and their confirmations, and the CPU of every
 * process, of PostgreSQL (per database) and of the Kafka broker, from /proc.
 */

export const SKU = 'FICUS-PUMILA';
/** Waiting for confirmations (or the orders' last effects) stops after this long without progress. */
const STALL_MS = 20_000;

export type TopologyName = 'monolith' | 'split';

/** One topology running as processes, seen the way the bench needs it. */
export interface Shop {
  readonly name: TopologyName;
  readonly launched: LaunchedTopology;
  /** The databases its contexts keep their data in. */
  readonly databases: ReadonlySet<string>;
  /** Whether its events go over Kafka: only then is the broker's CPU part of what it costs. */
  readonly usesKafka: boolean;
  /** When its processes were all ready (performance.now()). */
  readonly readyAt: number;
  token: string;
  /** SQL as superuser in the database that holds `context`'s schema. */
  query<T>(context: string, sql: string, params: unknown[]): Promise<T[]>;
}

export interface RoundResult {
  readonly posted: number;
  /** Orders confirmed in time (an order whose saga stalls is given up on after STALL_MS without progress). */
  readonly confirmed: number;
  readonly failed: number;
  readonly ordersPerSecond: number;
  readonly latenciesMs: number[];
  readonly cpuTicks: {
    readonly ficus: number;
    /** `ficus`, process by process (deploy target name). */
    readonly byTarget: Readonly<Record<string, number>>;
    readonly postgres: number;
    /** The local broker's, for a shop that uses Kafka; undefined for one that does not, or with KAFKA_BROKERS set. */
    readonly broker?: number;
    /** The other topology's processes, idle meanwhile. */
    readonly neighbour: number;
  };
}

/** Where shops run for one benchmark: its database, its Kafka namespace, its admin. */
export class ShopBench {
  readonly prefix = `bshop${randomBytes(4).toString('hex')}`;
  private readonly shops: Shop[] = [];
  private readonly clients: Client[] = [];
  private readonly topologyDir = mkdtempSync(join(tmpdir(), 'ficus-bench-topologies-'));
  private kafka?: Awaited<ReturnType<typeof benchKafka>>;

  private constructor(
    readonly database: BenchDatabase,
    readonly postgres: PostgresCpu,
    private readonly stats: Client,
  ) {
    this.clients.push(stats);
  }

  /** An embedded PostgreSQL of the bench's own, on the port `portSetting` names or a free one. */
  static async open(label: string, portSetting: string, options: BenchDatabaseOptions = {}): Promise<ShopBench> {
    const database = await startBenchDatabase(label, portSetting, options);
    try {
      const stats = new Client({ connectionString: database.urlOf('postgres') });
      await stats.connect();
      return new ShopBench(database, await PostgresCpu.of(stats), stats);
    } catch (error) {
      await database.stop();
      throw error;
    }
  }

  private get adminEmail(): string {
    return `bench-admin-${this.prefix}@example.com`;
  }

  /**
   * Launches `name` (monolith.yaml or split.yaml) as processes and signs a customer up; split
   * leases the benchmarks' Kafka broker first. Plenty of SKU is stocked.
   */
  async start(name: TopologyName, options: { monolithDatabase?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Shop> {
    const env: NodeJS.ProcessEnv = {
      ...withoutContextUrls(process.env),
      FICUS_DB_ROLE_SECRET: 'ficus-bench-role-secret',
      FICUS_DATABASE_PREFIX: this.prefix,
      FICUS_KAFKA_NAMESPACE: this.prefix,
      LOG_LEVEL: 'warn',
      LOG_HTTP_REQUESTS: 'false',
      ...options.env,
    };
    if (name === 'split') {
      this.kafka ??= await benchKafka(`ficus-bench-${this.prefix}`);
      env.KAFKA_BROKERS = benchKafkaBrokers().join(',');
    }
    const topologyPath = await topologyOnFreePorts(shippedTopologyPath(name), this.topologyDir);
    if (name === 'split' && env.FICUS_GRPC_PLAINTEXT !== 'loopback') {
      // As shipped (`npm run start:split`): gRPC with mutual TLS and the callers allow-list.
      const certificates = join(this.topologyDir, 'certs');
      await issueLocalCertificates(
        certificates,
        loadTopology(topologyPath, { env }).targets.map((target) => target.name),
      );
      env.FICUS_GRPC_TLS_DIR = given(env.FICUS_GRPC_TLS_DIR) ?? certificates;
    }
    // The monolith target names no database: it uses DATABASE_URL's, which must exist.
    const monolithDatabase = options.monolithDatabase ?? `${this.prefix}_monolith`;
    if (name === 'monolith') await ensureDatabase(this.database.adminUrl, monolithDatabase);
    const launched = await launchTopology({
      topologyPath,
      env: { ...env, DATABASE_URL: this.database.urlOf(name === 'monolith' ? monolithDatabase : 'postgres') },
      readyTimeoutMs: 180_000,
    });
    const databaseOf = (context: string) => {
      const target = launched.topology.targetOf(context);
      return target.database.kind === 'name' ? target.database.name : monolithDatabase;
    };
    const byDatabase = new Map<string, Promise<Client>>();
    const shop: Shop = {
      name,
      launched,
      databases: new Set(launched.topology.modules.map(databaseOf)),
      // As runTarget decides whether a process gets a Kafka client.
      usesKafka: !launched.topology.isSingleProcess && launched.topology.kafka.brokers.length > 0,
      readyAt: performance.now(),
      token: '',
      query: async (context, sql, params) => {
        const db = databaseOf(context);
        if (!byDatabase.has(db)) byDatabase.set(db, this.connect(db));
        const client = await byDatabase.get(db)!;
        this.postgres.exclude(client);
        return (await client.query(sql, params)).rows;
      },
    };
    this.shops.push(shop);
    // The bench's admin, made as an operator makes one (`ficus admins grant` changes this row): its
    // next sign-in carries the role.
    await signUp(launched.edgeUrl, this.adminEmail);
    await shop.query('identity', "UPDATE identity.customers SET roles = ARRAY['customer', 'admin'] WHERE email = $1", [
      this.adminEmail,
    ]);
    shop.token = (await signIn(launched.edgeUrl, this.adminEmail)).token;
    await post(launched.edgeUrl, `/inventory/stock/${SKU}/restock`, { quantity: 1_000_000 }, shop.token);
    return shop;
  }

  /** Prints the last output of every process (after a failure). */
  printOutputs(): void {
    for (const shop of this.shops) {
      for (const [target, launched] of shop.launched.processes) {
        if (launched.output.trim())
          line(`--- ${shop.name}/${target} (last output) ---\n${launched.output.slice(-1_000)}`);
      }
    }
  }

  async close(): Promise<void> {
    for (const shop of this.shops) await shop.launched.stop();
    for (const client of this.clients) await client.end().catch(() => undefined);
    if (this.kafka)
      await dropNamespace(this.kafka, this.prefix).catch((error: unknown) =>
        line(`    (could not delete the bench's Kafka topics: ${String(error)})`),
      );
    await this.database.stop();
    rmSync(this.topologyDir, { recursive: true, force: true });
  }

  private async connect(name: string): Promise<Client> {
    const client = new Client({ connectionString: this.database.urlOf(name) });
    await client.connect();
    this.clients.push(client);
    return client;
  }
}

/**
 * Posts `orders` orders — CONCURRENCY at a time (a closed loop: a backlog builds when the shop
 * confirms slower than it accepts), or at a steady rate (an open loop) — and waits until they are
 * confirmed and their effects are in. The other topology's processes are measured too: they idle
 * meanwhile, and their CPU says what running both side by side costs the measured one.
 */
export async function round(
  shop: Shop,
  orders: number,
  postgres: PostgresCpu,
  arrival: { readonly perSecond: number } | { readonly concurrency: number } | { readonly oneAtATime: true } = {
    concurrency: 16,
  },
  neighbour?: Shop,
): Promise<RoundResult> {
  const ficusPids = [...shop.launched.processes.values()].map((p) => p.child.pid!);
  const neighbourPids = [...(neighbour?.launched.processes.values() ?? [])].map((p) => p.child.pid!);
  // The monolith has no Kafka: a broker left running by an earlier benchmark is not its cost.
  const broker = shop.usesKafka ? kafkaBrokerPid() : undefined;
  const before = {
    ficus: ficusPids.map(ticksOf),
    neighbour: neighbourPids.map(ticksOf),
    postgres: await postgres.snapshot(),
    broker: broker && ticksOf(broker),
  };
  const baseUrl = shop.launched.edgeUrl;
  const postedAt = new Map<string, number>();
  const placeOrder = async () => {
    const at = Date.now();
    const { orderId } = (await post(
      baseUrl,
      '/orders',
      { items: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_visa' },
      shop.token,
    )) as {
      orderId: string;
    };
    postedAt.set(orderId, at);
  };
  const started = Date.now();
  if ('concurrency' in arrival) {
    const { concurrency } = arrival;
    await pool(orders, concurrency, placeOrder);
  } else if ('oneAtATime' in arrival) {
    // One saga at a time: the next order is posted once this one has an outcome.
    for (let i = 0; i < orders; i++) {
      await placeOrder();
      const orderId = [...postedAt.keys()].at(-1)!;
      await settled(shop, orderId);
    }
  } else {
    const posts: Array<Promise<void>> = [];
    for (let i = 0; i < orders; i++) {
      await sleep(Math.max(0, started + (i * 1_000) / arrival.perSecond - Date.now()));
      posts.push(placeOrder());
    }
    await Promise.all(posts);
  }
  const ids = [...postedAt.keys()];
  const { confirmedAt, failed } = await outcomes(shop, ids);
  const confirmed = ids.filter((id) => confirmedAt.has(id));
  await effectsIn(shop, confirmed);
  const after = {
    ficus: ficusPids.map(ticksOf),
    neighbour: neighbourPids.map(ticksOf),
    postgres: await postgres.snapshot(),
    broker: broker && ticksOf(broker),
  };

  let ficus = 0;
  const byTarget: Record<string, number> = {};
  const targets = [...shop.launched.processes.keys()];
  for (const [i, pid] of ficusPids.entries()) {
    if (!before.ficus[i] || !after.ficus[i]) throw new Error(`${shop.name}: process ${pid} is gone`);
    const used = after.ficus[i].own - before.ficus[i].own;
    ficus += used;
    byTarget[targets[i]] = used;
  }
  if (confirmed.length === 0) throw new Error(`${shop.name}: none of ${ids.length} orders was confirmed`);
  const last = Math.max(...confirmed.map((id) => confirmedAt.get(id)!));
  return {
    posted: ids.length,
    confirmed: confirmed.length,
    failed,
    ordersPerSecond: confirmed.length / ((last - started) / 1_000),
    latenciesMs: confirmed.map((id) => confirmedAt.get(id)! - postedAt.get(id)!),
    cpuTicks: {
      ficus,
      byTarget,
      postgres: postgres.ticksBetween(before.postgres, after.postgres, shop.databases),
      broker: before.broker && after.broker ? after.broker.own - before.broker.own : undefined,
      neighbour: neighbourPids.reduce(
        (sum, _pid, i) => sum + (after.neighbour[i]?.own ?? 0) - (before.neighbour[i]?.own ?? 0),
        0,
      ),
    },
  };
}

/** What reads of one path cost: wall time per read and CPU (ticks) of the topology and PostgreSQL. */
export interface ReadResult {
  readonly reads: number;
  readonly latenciesMs: number[];
  readonly cpuTicks: { readonly ficus: number; readonly postgres: number };
}

/** `reads` GETs of `path` through the shop's public edge, `concurrency` at a time, all answered 200. */
export async function readRound(
  shop: Shop,
  path: string,
  reads: number,
  postgres: PostgresCpu,
  concurrency = 8,
): Promise<ReadResult> {
  const pids = [...shop.launched.processes.values()].map((p) => p.child.pid!);
  const before = { ficus: pids.map(ticksOf), postgres: await postgres.snapshot() };
  const latenciesMs: number[] = [];
  await pool(reads, concurrency, async () => {
    const at = performance.now();
    const answer = await fetch(`${shop.launched.edgeUrl}${path}`, {
      headers: { authorization: `Bearer ${shop.token}` },
    });
    await answer.arrayBuffer();
    if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status}`);
    latenciesMs.push(performance.now() - at);
  });
  const after = { ficus: pids.map(ticksOf), postgres: await postgres.snapshot() };
  const ficus = pids.reduce((sum, _pid, i) => sum + (after.ficus[i]?.own ?? 0) - (before.ficus[i]?.own ?? 0), 0);
  return {
    reads,
    latenciesMs,
    cpuTicks: { ficus, postgres: postgres.ticksBetween(before.postgres, after.postgres, shop.databases) },
  };
}

/** Places one order and waits until it ended; its id. */
export async function placeOne(shop: Shop): Promise<string> {
  const { orderId } = (await post(
    shop.launched.edgeUrl,
    '/orders',
    { items: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_visa' },
    shop.token,
  )) as {
    orderId: string;
  };
  await settled(shop, orderId);
  return orderId;
}

/** One hop between contexts: the saga's step before and after it, and where the time went. */
export interface SagaHop {
  /** `ORDER_CREATED → STOCK_RESERVED`: between the two events' occurredAt, one order at a time. */
  readonly hop: string;
  readonly p50Ms: number;
  /** The consumer that made the second step: its events' mean age when it started, and its mean handling. */
  readonly consumer: string;
  readonly meanAgeMs: number;
  readonly meanHandlingMs: number;
}

/** The saga's hops as the bench breaks them down: each step, and the consumer whose handling makes it. */
const SAGA_HOPS = [
  { hop: 'ORDER_CREATED → STOCK_RESERVED', consumer: 'inventory:ordering.order-created.v2' },
  { hop: 'STOCK_RESERVED → PAYMENT_COMPLETED', consumer: 'payments:inventory.stock-reserved.v1' },
  { hop: 'PAYMENT_COMPLETED → SHIPMENT_CREATED', consumer: 'shipping:payments.payment-completed.v1' },
] as const;

/**
 * Places `orders` orders one at a time on an otherwise idle shop and breaks their sagas into hops:
 * from each order's timeline (`GET /orders/:id/timeline`) the time from one step to the next, and
 * from every process's /metrics (`ficus_event_age_seconds`, `ficus_event_handling_seconds`) how
 * much of a hop the event spent getting to its consumer and how much in the consumer's handling.
 */
export async function sagaHops(shop: Shop, orders: number): Promise<SagaHop[]> {
  const before = await eventTimes(shop);
  const steps: Record<string, number[]> = {};
  for (let i = 0; i < orders; i++) {
    const orderId = await placeOne(shop);
    const response = await fetch(`${shop.launched.edgeUrl}/orders/${orderId}/timeline`, {
      headers: { authorization: `Bearer ${shop.token}` },
    });
    if (response.status !== 200) throw new Error(`timeline of ${orderId}: ${response.status} ${await response.text()}`);
    const timeline = (await response.json()) as { steps: Array<{ step: string; at: string }> };
    for (let s = 1; s < timeline.steps.length; s++) {
      const [from, to] = [timeline.steps[s - 1], timeline.steps[s]];
      (steps[`${from.step} → ${to.step}`] ??= []).push(Date.parse(to.at) - Date.parse(from.at));
    }
  }
  const after = await eventTimes(shop);
  const mean = (consumer: string, what: 'age' | 'handling') => {
    const [sum, count] = [0, 1].map(
      (i) => (after.get(consumer)?.[what][i] ?? 0) - (before.get(consumer)?.[what][i] ?? 0),
    );
    return count > 0 ? Math.round((sum / count) * 10_000) / 10 : Number.NaN;
  };
  return SAGA_HOPS.map(({ hop, consumer }) => ({
    hop,
    p50Ms: median(steps[hop] ?? []),
    consumer,
    meanAgeMs: mean(consumer, 'age'),
    meanHandlingMs: mean(consumer, 'handling'),
  }));
}

/** Each consumer's event age and handling time, summed over the topology's processes: [sum s, count]. */
async function eventTimes(shop: Shop): Promise<Map<string, { age: [number, number]; handling: [number, number] }>> {
  const times = new Map<string, { age: [number, number]; handling: [number, number] }>();
  for (const target of shop.launched.processes.keys()) {
    const text = await (await fetch(`${shop.launched.operationsUrlOf(target)}/metrics`)).text();
    for (const [, metric, part, labels, value] of text.matchAll(
      /^ficus_event_(age|handling)_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm,
    )) {
      const consumer = /consumer="([^"]+)"/.exec(labels)?.[1];
      if (!consumer || (metric === 'handling' && !labels.includes('outcome="processed"'))) continue;
      const entry = times.get(consumer) ?? { age: [0, 0], handling: [0, 0] };
      entry[metric as 'age' | 'handling'][part === 'sum' ? 0 : 1] += Number(value);
      times.set(consumer, entry);
    }
  }
  return times;
}

/** Waits (polling closely, so that pacing adds little) until `orderId` is CONFIRMED or FAILED. */
async function settled(shop: Shop, orderId: string): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < STALL_MS) {
    const rows = await shop.query<{ n: number }>(
      'ordering',
      'SELECT count(*)::int AS n FROM ordering.order_events WHERE aggregate_id = $1 AND type = ANY($2::text[])',
      [orderId, [OrderConfirmed.type, OrderFailed.type]],
    );
    if (rows[0].n > 0) return;
    await sleep(2);
  }
}

/** Cores the topology's processes use with nothing to do (relay sweeps, heartbeats, polls), over `ms`. */
export async function idleCores(shop: Shop, ms = 5_000): Promise<number> {
  const pids = [...shop.launched.processes.values()].map((p) => p.child.pid!);
  const before = pids.map(ticksOf);
  const started = performance.now();
  await sleep(ms);
  const used = pids.reduce((sum, pid, i) => sum + (ticksOf(pid)?.own ?? 0) - (before[i]?.own ?? 0), 0);
  return Math.round((seconds(used) / ((performance.now() - started) / 1_000)) * 1_000) / 1_000;
}

/**
 * Cores the topology's processes use at rest as a shop in service does: after REST_SETTLE_MS with
 * no request (the caller's last load ended just before) and REST_MIN_AGE_MS since they were ready,
 * over REST_WINDOW_MS.
 */
export async function restingCores(shop: Shop): Promise<number> {
  await sleep(Math.max(REST_SETTLE_MS, shop.readyAt + REST_MIN_AGE_MS - performance.now()));
  return idleCores(shop, REST_WINDOW_MS);
}

/**
 * When each order was confirmed (its order-confirmed event's occurred_at, epoch ms), and how many
 * failed. Waits until every order has an outcome, or until none has come for STALL_MS: an order
 * whose saga is stuck (a message dead-lettered on the way) is counted as unconfirmed, not waited
 * for without end.
 */
async function outcomes(
  shop: Shop,
  ids: readonly string[],
): Promise<{ confirmedAt: Map<string, number>; failed: number }> {
  const confirmedAt = new Map<string, number>();
  let failed = 0;
  let progressAt = Date.now();
  while (confirmedAt.size + failed < ids.length && Date.now() - progressAt < STALL_MS) {
    await sleep(100);
    const pending = ids.filter((id) => !confirmedAt.has(id));
    const rows = await shop.query<{ aggregate_id: string; type: string; occurred_at: Date }>(
      'ordering',
      'SELECT aggregate_id, type, occurred_at FROM ordering.order_events WHERE aggregate_id = ANY($1::text[]) AND type = ANY($2::text[])',
      [pending, [OrderConfirmed.type, OrderFailed.type]],
    );
    const failedNow = rows.filter((row) => row.type === OrderFailed.type).length;
    for (const row of rows) {
      if (row.type === OrderConfirmed.type) confirmedAt.set(row.aggregate_id, row.occurred_at.getTime());
    }
    if (rows.length - failedNow > 0 || failedNow !== failed) progressAt = Date.now();
    failed = failedNow;
  }
  return { confirmedAt, failed };
}

/**
 * The confirmed orders' last effects: reservation committed (inventory), email recorded
 * (notifications). Gives up, like `outcomes`, after STALL_MS without progress.
 */
async function effectsIn(shop: Shop, ids: readonly string[]): Promise<void> {
  let progressAt = Date.now();
  let seen = -1;
  while (Date.now() - progressAt < STALL_MS) {
    const [[reserved], [notified]] = await Promise.all([
      shop.query<{ n: number }>(
        'inventory',
        `SELECT count(*)::int AS n FROM inventory.reservations WHERE status = 'COMMITTED' AND order_id = ANY($1::uuid[])`,
        [ids],
      ),
      shop.query<{ n: number }>(
        'notifications',
        `SELECT count(*)::int AS n FROM notifications.notifications WHERE kind = 'order-confirmed' AND order_id = ANY($1::uuid[])`,
        [ids],
      ),
    ]);
    if (reserved.n === ids.length && notified.n === ids.length) return;
    if (reserved.n + notified.n !== seen) progressAt = Date.now();
    seen = reserved.n + notified.n;
    await sleep(100);
  }
}

/** Messages the topology's consumers gave up on (all contexts' dead letters). */
export async function deadLetters(shop: Shop): Promise<number> {
  let total = 0;
  for (const context of shop.launched.topology.modules) {
    const [row] = await shop.query<{ n: number }>(
      context,
      `SELECT count(*)::int AS n FROM ${context}.dead_letters`,
      [],
    );
    total += row.n;
  }
  return total;
}

interface PostgresSnapshot {
  readonly postmaster: ProcessTicks;
  readonly processes: ReadonlyMap<number, ProcessTicks>;
  /** Client backends and the database each is connected to. */
  readonly clients: ReadonlyMap<number, string | null>;
}

/**
 * PostgreSQL's CPU, attributed: the backends connected to a topology's databases, plus what the
 * server does for everyone (postmaster, checkpointer, WAL writer, autovacuum, backends that came
 * and went), read from /proc of the postmaster and its children. The bench's own connections
 * (its polling) and the other topology's idle connections are left out.
 */
export class PostgresCpu {
  private readonly excluded = new Set<number>();

  private constructor(
    private readonly stats: Client,
    private readonly postmaster: number,
  ) {}

  static async of(stats: Client): Promise<PostgresCpu> {
    const { rows } = await stats.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = ticksOf(rows[0].pid);
    if (!backend) throw new Error('cannot read /proc of the PostgreSQL backend');
    const cpu = new PostgresCpu(stats, backend.ppid);
    cpu.excluded.add(rows[0].pid);
    return cpu;
  }

  exclude(client: Client): void {
    const pid = (client as unknown as { processID?: number }).processID;
    if (pid) this.excluded.add(pid);
  }

  async snapshot(): Promise<PostgresSnapshot> {
    const processes = new Map<number, ProcessTicks>();
    for (const pid of childrenOf(this.postmaster)) {
      const ticks = ticksOf(pid);
      if (ticks) processes.set(pid, ticks);
    }
    const { rows } = await this.stats.query<{ pid: number; datname: string | null }>(
      `SELECT pid, datname FROM pg_stat_activity WHERE backend_type = 'client backend'`,
    );
    const postmaster = ticksOf(this.postmaster);
    if (!postmaster) throw new Error('the PostgreSQL server is gone');
    return { postmaster, processes, clients: new Map(rows.map((r) => [r.pid, r.datname])) };
  }

  ticksBetween(before: PostgresSnapshot, after: PostgresSnapshot, databases: ReadonlySet<string>): number {
    // children that exited in between were reaped into the postmaster's cutime/cstime, with their
    // whole life: take back what they had used before the window
    let total = after.postmaster.own - before.postmaster.own + (after.postmaster.reaped - before.postmaster.reaped);
    for (const [pid, ticks] of before.processes) {
      if (!after.processes.has(pid)) total -= ticks.own;
    }
    for (const [pid, ticks] of after.processes) {
      if (this.excluded.has(pid)) continue;
      const isClient = after.clients.has(pid) || before.clients.has(pid);
      const datname = after.clients.get(pid) ?? before.clients.get(pid);
      if (isClient && !(datname && databases.has(datname))) continue;
      total += ticks.own - (before.processes.get(pid)?.own ?? 0);
    }
    return total;
  }
}

/** The local broker's pid (npm run kafka:start's pid file), when the bench's broker is that one. */
export function kafkaBrokerPid(): number | undefined {
  if (process.env.KAFKA_BROKERS) return undefined;
  const file = resolve(__dirname, '..', given(process.env.FICUS_DATA_DIR) ?? '.data', 'kafka', 'broker.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The environment without DATABASE_URL_<CONTEXT> overrides a developer may have set. */
function withoutContextUrls(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^DATABASE_URL_/.test(key)));
}

async function pool(count: number, concurrency: number, work: () => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        await work();
      }
    }),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
