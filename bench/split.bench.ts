import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { OrderConfirmed, OrderFailed } from '@contracts/ordering';
import { launchTopology, type LaunchedTopology } from '@infra/deploy/local/topology-launcher';
import { ensureDatabase } from '@infra/persistence';
import { shippedTopologyPath } from '@infra/topology';
import { startBenchDatabase } from './bench-database';
import { benchKafka, benchKafkaBrokers, dropNamespace } from './bench-kafka';
import { post, signUp } from './bench-shop';
import { line, median, percentile, writeResult } from './measure';
import { childrenOf, seconds, ticksOf, type ProcessTicks } from './process-cpu';

const SKU = 'FICUS-PUMILA';
const ORDERS_PER_ROUND = 200;
const CONCURRENCY = 16;
/** Rounds per topology; they alternate monolith, split, split, monolith, ... */
const ROUNDS = 2;
const WARM_UP_ORDERS = 30;
/** Orders of the paced phase, at half the lower throughput measured: latency without a backlog. */
const PACED_ORDERS = 60;
const IDLE_MS = 5_000;
/** Waiting for confirmations (or the orders' last effects) stops after this long without progress. */
const STALL_MS = 20_000;

type TopologyName = 'monolith' | 'split';

/** One topology running as processes, seen the way the bench needs it. */
interface Shop {
  readonly name: TopologyName;
  readonly launched: LaunchedTopology;
  /** The databases its contexts keep their data in. */
  readonly databases: ReadonlySet<string>;
  token: string;
  /** SQL as superuser in the database that holds `context`'s schema. */
  query<T>(context: string, sql: string, params: unknown[]): Promise<T[]>;
}

interface RoundResult {
  readonly posted: number;
  /** Orders confirmed in time (an order whose saga stalls is given up on after STALL_MS without progress). */
  readonly confirmed: number;
  readonly failed: number;
  readonly ordersPerSecond: number;
  readonly latenciesMs: number[];
  readonly cpuTicks: {
    readonly ficus: number;
    readonly postgres: number;
    readonly broker?: number;
    /** The other topology's processes, idle meanwhile. */
    readonly neighbour: number;
  };
}

/**
 * (7) The same shop as one process (monolith.yaml) and as split services (split.yaml: a gateway
 * and one process per context, gRPC between them, events over Kafka), both launched as real
 * processes by launchTopology (from copies of the shipped files with free ports), on one embedded
 * PostgreSQL of the bench's own, under the same bounded load: 200 orders, 16 posted at a time,
 * through POST /orders, in alternating rounds.
 *
 * - orders CONFIRMED per second: confirmed orders / (last confirmation − first POST);
 * - POST → CONFIRMED: from just before the POST to the occurred_at of the order's
 *   order-confirmed event, under that load and at a steady rate both can take;
 * - CPU seconds per 1,000 confirmed orders, from /proc: every process of the topology, and
 *   PostgreSQL's backends of its databases plus the server's own processes, from the first POST
 *   until the orders' last effects (reservation committed, email recorded) are in. The shared
 *   Kafka broker's CPU is shown apart: anyone else's use of it lands there too.
 *
 * An order whose saga stalls (a message dead-lettered on the way) is counted, not waited for.
 */
export async function benchSplit(): Promise<Record<string, unknown>> {
  const database = await startBenchDatabase('split', Number(process.env.FICUS_BENCH_SPLIT_PG_PORT ?? 54359));
  const prefix = `bsplit${randomBytes(4).toString('hex')}`;
  const topologyDir = mkdtempSync(join(tmpdir(), 'ficus-bench-topologies-'));
  const shops: Shop[] = [];
  const clients: Client[] = [];
  const kafka = await benchKafka(`ficus-bench-${prefix}`).catch(async (error: unknown) => {
    await database.stop();
    rmSync(topologyDir, { recursive: true, force: true });
    throw error;
  });
  try {
    const adminEmail = `bench-admin-${prefix}@example.com`;
    const env: NodeJS.ProcessEnv = {
      ...withoutContextUrls(process.env),
      FICUS_DB_ROLE_SECRET: 'ficus-bench-role-secret',
      FICUS_DATABASE_PREFIX: prefix,
      FICUS_KAFKA_NAMESPACE: prefix,
      KAFKA_BROKERS: benchKafkaBrokers().join(','),
      FICUS_ADMIN_EMAILS: adminEmail,
      LOG_LEVEL: 'warn',
      LOG_HTTP_REQUESTS: 'false',
    };
    const connect = async (name: string) => {
      const client = new Client({ connectionString: database.urlOf(name) });
      await client.connect();
      clients.push(client);
      return client;
    };
    const stats = await connect('postgres');
    const postgres = await PostgresCpu.of(stats);

    const start = async (name: TopologyName): Promise<Shop> => {
      // The monolith target names no database: it uses DATABASE_URL's, which must exist.
      const monolithDatabase = `${prefix}_monolith`;
      if (name === 'monolith') await ensureDatabase(database.adminUrl, monolithDatabase);
      const launched = await launchTopology({
        topologyPath: await onFreePorts(name, topologyDir),
        env: { ...env, DATABASE_URL: database.urlOf(name === 'monolith' ? monolithDatabase : 'postgres') },
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
        token: '',
        query: async (context, sql, params) => {
          const db = databaseOf(context);
          if (!byDatabase.has(db)) byDatabase.set(db, connect(db));
          const client = await byDatabase.get(db)!;
          postgres.exclude(client);
          return (await client.query(sql, params)).rows;
        },
      };
      shops.push(shop);
      shop.token = (await signUp(launched.edgeUrl, adminEmail)).token;
      await post(launched.edgeUrl, `/inventory/stock/${SKU}/restock`, { quantity: 1_000_000 }, shop.token);
      return shop;
    };

    line(`(7) monolith vs split services, both as processes, the same load: ${ORDERS_PER_ROUND} orders × ${ROUNDS} rounds, ${CONCURRENCY} posted at a time`);
    const startupSeconds: Partial<Record<TopologyName, number>> = {};
    const timed = async (name: TopologyName) => {
      const startedAt = performance.now();
      const shop = await start(name);
      startupSeconds[name] = round1((performance.now() - startedAt) / 1_000);
      return shop;
    };
    // Alternating rounds (monolith, split, split, monolith) without two topologies competing for
    // the two cores: split starts after the monolith's first round and stops before its second.
    // The monolith idles meanwhile, at a cost its CPU during split's rounds shows.
    const results: Record<TopologyName, RoundResult[]> = { monolith: [], split: [] };
    const monolith = await timed('monolith');
    // warm up: JIT and pools, and in split the Kafka consumer groups with their partitions
    const warmUp: Partial<Record<TopologyName, RoundResult>> = { monolith: await round(monolith, WARM_UP_ORDERS, postgres) };
    const idle: Partial<Record<TopologyName, number>> = { monolith: await idleCores(monolith) };
    results.monolith.push(await round(monolith, ORDERS_PER_ROUND, postgres));
    const split = await timed('split');
    line(`    up in ${startupSeconds.monolith} s (monolith, 1 process) and ${startupSeconds.split} s (split, ${split.launched.processes.size} processes)`);
    warmUp.split = await round(split, WARM_UP_ORDERS, postgres);
    idle.split = await idleCores(split);
    for (let r = 0; r < ROUNDS; r++) results.split.push(await round(split, ORDERS_PER_ROUND, postgres, 'closed-loop', monolith));
    // Latency at one steady arrival rate for both, below what either confirms: under the closed
    // loop it mostly measures the backlog.
    const pacedPerSecond = round1(
      Math.max(1, Math.min(...[...results.monolith, ...results.split].map((r) => r.ordersPerSecond)) / 2),
    );
    const paced: Partial<Record<TopologyName, RoundResult>> = { split: await round(split, PACED_ORDERS, postgres, { perSecond: pacedPerSecond }) };
    const splitDeadLetters = await deadLetters(split);
    await split.launched.stop();
    for (let r = 1; r < ROUNDS; r++) results.monolith.push(await round(monolith, ORDERS_PER_ROUND, postgres));
    paced.monolith = await round(monolith, PACED_ORDERS, postgres, { perSecond: pacedPerSecond });

    const summary = async (shop: Shop) => {
      const rounds = results[shop.name];
      const latencies = rounds.flatMap((r) => r.latenciesMs);
      const confirmed = rounds.reduce((sum, r) => sum + r.confirmed, 0);
      const per1000 = (ticks: number) => round2((seconds(ticks) / confirmed) * 1_000);
      const ficus = rounds.reduce((sum, r) => sum + r.cpuTicks.ficus, 0);
      const pg = rounds.reduce((sum, r) => sum + r.cpuTicks.postgres, 0);
      const broker = rounds.every((r) => r.cpuTicks.broker !== undefined)
        ? rounds.reduce((sum, r) => sum + r.cpuTicks.broker!, 0)
        : undefined;
      return {
        processes: shop.launched.processes.size,
        startupSeconds: startupSeconds[shop.name],
        posted: rounds.reduce((sum, r) => sum + r.posted, 0),
        confirmed,
        failed: rounds.reduce((sum, r) => sum + r.failed, 0),
        warmUp: { posted: warmUp[shop.name]!.posted, confirmed: warmUp[shop.name]!.confirmed },
        deadLetters: shop === split ? splitDeadLetters : await deadLetters(shop),
        idleCores: idle[shop.name],
        confirmedPerSecond: round1(median(rounds.map((r) => r.ordersPerSecond))),
        roundsPerSecond: rounds.map((r) => round1(r.ordersPerSecond)),
        latencyMs: { p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)) },
        pacedLatencyMs: {
          ordersPerSecond: pacedPerSecond,
          confirmed: paced[shop.name]!.confirmed,
          p50: Math.round(percentile(paced[shop.name]!.latenciesMs, 50)),
          p99: Math.round(percentile(paced[shop.name]!.latenciesMs, 99)),
        },
        /** CPU of the other topology's processes, idling alongside, as a share of this one's. */
        idleNeighbourCpuShare: round2(
          rounds.reduce((sum, r) => sum + r.cpuTicks.neighbour, 0) / rounds.reduce((sum, r) => sum + r.cpuTicks.ficus, 0),
        ),
        cpuSecondsPer1000Orders: {
          ficusProcesses: per1000(ficus),
          postgres: per1000(pg),
          total: per1000(ficus + pg),
          kafkaBrokerSharedNotInTotal: broker === undefined ? null : per1000(broker),
        },
      };
    };
    const m = await summary(monolith);
    const s = await summary(split);
    const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
    const figures = {
      ordersPerRound: ORDERS_PER_ROUND,
      concurrency: CONCURRENCY,
      roundsPerTopology: ROUNDS,
      monolith: m,
      split: s,
      splitOverMonolith: {
        confirmedPerSecond: ratio(s.confirmedPerSecond, m.confirmedPerSecond),
        latencyP50: ratio(s.latencyMs.p50, m.latencyMs.p50),
        latencyP99: ratio(s.latencyMs.p99, m.latencyMs.p99),
        pacedLatencyP50: ratio(s.pacedLatencyMs.p50, m.pacedLatencyMs.p50),
        pacedLatencyP99: ratio(s.pacedLatencyMs.p99, m.pacedLatencyMs.p99),
        cpuPer1000Orders: ratio(s.cpuSecondsPer1000Orders.total, m.cpuSecondsPer1000Orders.total),
        cpuPer1000OrdersFicusProcesses: ratio(s.cpuSecondsPer1000Orders.ficusProcesses, m.cpuSecondsPer1000Orders.ficusProcesses),
      },
    };
    const row = (label: string, a: number | string, b: number | string, r: number | string = '') =>
      line(`    ${label.padEnd(38)}${String(a).padStart(10)}${String(b).padStart(10)}${String(r).padStart(12)}`);
    row('', 'monolith', 'split', 'split/mono');
    row('orders confirmed / posted', `${m.confirmed}/${m.posted}`, `${s.confirmed}/${s.posted}`);
    if (m.failed + s.failed + m.deadLetters + s.deadLetters > 0) {
      row('  orders FAILED', m.failed, s.failed);
      row('  dead letters (whole run, all contexts)', m.deadLetters, s.deadLetters);
    }
    row('orders CONFIRMED per second', m.confirmedPerSecond, s.confirmedPerSecond, `${figures.splitOverMonolith.confirmedPerSecond}×`);
    line(`    POST → CONFIRMED (ms), ${CONCURRENCY} at a time: a backlog builds, latency is mostly queueing`);
    row('  p50', m.latencyMs.p50, s.latencyMs.p50, `${figures.splitOverMonolith.latencyP50}×`);
    row('  p99', m.latencyMs.p99, s.latencyMs.p99, `${figures.splitOverMonolith.latencyP99}×`);
    line(`    POST → CONFIRMED (ms), ${PACED_ORDERS} orders arriving at ${pacedPerSecond}/s (half the lower throughput)`);
    row('  p50', m.pacedLatencyMs.p50, s.pacedLatencyMs.p50, `${figures.splitOverMonolith.pacedLatencyP50}×`);
    row('  p99', m.pacedLatencyMs.p99, s.pacedLatencyMs.p99, `${figures.splitOverMonolith.pacedLatencyP99}×`);
    row('CPU at rest (cores, ficus processes)', m.idleCores ?? '-', s.idleCores ?? '-');
    line('    CPU seconds per 1,000 confirmed orders');
    row('  ficus processes', m.cpuSecondsPer1000Orders.ficusProcesses, s.cpuSecondsPer1000Orders.ficusProcesses, `${figures.splitOverMonolith.cpuPer1000OrdersFicusProcesses}×`);
    row('  PostgreSQL (its databases + server)', m.cpuSecondsPer1000Orders.postgres, s.cpuSecondsPer1000Orders.postgres);
    row('  together', m.cpuSecondsPer1000Orders.total, s.cpuSecondsPer1000Orders.total, `${figures.splitOverMonolith.cpuPer1000Orders}×`);
    if (s.cpuSecondsPer1000Orders.kafkaBrokerSharedNotInTotal !== null) {
      row('  Kafka broker (shared, not in together)', m.cpuSecondsPer1000Orders.kafkaBrokerSharedNotInTotal ?? '-', s.cpuSecondsPer1000Orders.kafkaBrokerSharedNotInTotal);
    }
    writeResult('split', figures);
    return figures;
  } catch (error) {
    for (const shop of shops) {
      for (const [target, launched] of shop.launched.processes) {
        if (launched.output.trim()) line(`--- ${shop.name}/${target} (last output) ---\n${launched.output.slice(-1_000)}`);
      }
    }
    throw error;
  } finally {
    for (const shop of shops) await shop.launched.stop();
    for (const client of clients) await client.end().catch(() => undefined);
    await dropNamespace(kafka, prefix).catch((error: unknown) => line(`    (could not delete the bench's Kafka topics: ${String(error)})`));
    await database.stop();
    rmSync(topologyDir, { recursive: true, force: true });
  }
}

/** Posts `orders` orders, `CONCURRENCY` at a time; waits until all are confirmed and their effects are in. */
/**
 * Posts `orders` orders — CONCURRENCY at a time (a closed loop: a backlog builds when the shop
 * confirms slower than it accepts), or at a steady rate (an open loop) — and waits until they are
 * confirmed and their effects are in. The other topology's processes are measured too: they idle
 * meanwhile, and their CPU says what running both side by side costs the measured one.
 */
async function round(
  shop: Shop,
  orders: number,
  postgres: PostgresCpu,
  arrival: { readonly perSecond: number } | 'closed-loop' = 'closed-loop',
  neighbour?: Shop,
): Promise<RoundResult> {
  const ficusPids = [...shop.launched.processes.values()].map((p) => p.child.pid!);
  const neighbourPids = [...(neighbour?.launched.processes.values() ?? [])].map((p) => p.child.pid!);
  const broker = kafkaBrokerPid();
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
    const { orderId } = (await post(baseUrl, '/orders', { items: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_visa' }, shop.token)) as {
      orderId: string;
    };
    postedAt.set(orderId, at);
  };
  const started = Date.now();
  if (arrival === 'closed-loop') {
    await pool(orders, CONCURRENCY, placeOrder);
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
  for (const [i, pid] of ficusPids.entries()) {
    if (!before.ficus[i] || !after.ficus[i]) throw new Error(`${shop.name}: process ${pid} is gone`);
    ficus += after.ficus[i].own - before.ficus[i].own;
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
      postgres: postgres.ticksBetween(before.postgres, after.postgres, shop.databases),
      broker: before.broker && after.broker ? after.broker.own - before.broker.own : undefined,
      neighbour: neighbourPids.reduce((sum, _pid, i) => sum + (after.neighbour[i]?.own ?? 0) - (before.neighbour[i]?.own ?? 0), 0),
    },
  };
}

/** Cores the topology's processes use with nothing to do (relay sweeps, heartbeats, polls), over IDLE_MS. */
async function idleCores(shop: Shop): Promise<number> {
  const pids = [...shop.launched.processes.values()].map((p) => p.child.pid!);
  const before = pids.map(ticksOf);
  const started = performance.now();
  await sleep(IDLE_MS);
  const used = pids.reduce((sum, pid, i) => sum + (ticksOf(pid)?.own ?? 0) - (before[i]?.own ?? 0), 0);
  return Math.round((seconds(used) / ((performance.now() - started) / 1_000)) * 1_000) / 1_000;
}

/**
 * When each order was confirmed (its order-confirmed event's occurred_at, epoch ms), and how many
 * failed. Waits until every order has an outcome, or until none has come for STALL_MS: an order
 * whose saga is stuck (a message dead-lettered on the way) is counted as unconfirmed, not waited
 * for without end.
 */
async function outcomes(shop: Shop, ids: readonly string[]): Promise<{ confirmedAt: Map<string, number>; failed: number }> {
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
      shop.query<{ n: number }>('inventory', `SELECT count(*)::int AS n FROM inventory.reservations WHERE status = 'COMMITTED' AND order_id = ANY($1::uuid[])`, [ids]),
      shop.query<{ n: number }>('notifications', `SELECT count(*)::int AS n FROM notifications.notifications WHERE kind = 'order-confirmed' AND order_id = ANY($1::uuid[])`, [ids]),
    ]);
    if (reserved.n === ids.length && notified.n === ids.length) return;
    if (reserved.n + notified.n !== seen) progressAt = Date.now();
    seen = reserved.n + notified.n;
    await sleep(100);
  }
}

/** Messages the topology's consumers gave up on (all contexts' dead letters). */
async function deadLetters(shop: Shop): Promise<number> {
  let total = 0;
  for (const context of shop.launched.topology.modules) {
    const [row] = await shop.query<{ n: number }>(context, `SELECT count(*)::int AS n FROM ${context}.dead_letters`, []);
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
class PostgresCpu {
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
function kafkaBrokerPid(): number | undefined {
  if (process.env.KAFKA_BROKERS) return undefined;
  const file = resolve(__dirname, '..', process.env.FICUS_DATA_DIR ?? '.data', 'kafka', 'broker.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A copy of a shipped topology with every port replaced by a free one: the shipped files use
 * fixed ports (3000, 3101…, 50051…) that `npm start`, the test suite and the other topology of
 * this bench use too. Nothing else of the file changes.
 */
async function onFreePorts(name: TopologyName, dir: string): Promise<string> {
  const text = readFileSync(shippedTopologyPath(name), 'utf8');
  const ports = await Promise.all(Array.from(text.matchAll(/port: \d+/g), () => freePort()));
  let i = 0;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text.replace(/port: \d+/g, () => `port: ${ports[i++]}`));
  return file;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
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

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
