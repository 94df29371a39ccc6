import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { ensureDatabase, inPipelinedTransaction, type PipelinedTransaction } from '@infra/persistence';
import { KeyEncryption } from '@infra/security';
import {
  CONCURRENCY,
  COUNTED_ORDERS,
  ONE_AT_A_TIME_ORDERS,
  ORDERS_PER_ROUND,
  PACED_ORDERS,
  ROUNDS,
  WARM_UP_ORDERS,
} from './bench-scale';
import { line, round1, round2, median, percentile, writeResult } from './measure';
import { seconds, ticksOf } from './process-cpu';
import { StatementCounts, type StatementFootprint } from './statement-counts';
import { round, ShopBench, SKU, type RoundResult } from './topology-shop';

/** What issue 14 asks of the monolith (docs/performance.md). */
export const ORDER_AIMS = {
  confirmedPerSecond: 150,
  ratioToBareSql: 0.8,
  oneAtATimeMs: { p50: 10, p99: 40 },
} as const;

/**
 * (2) Orders CONFIRMED per second on the monolith run as `npm start` runs it (a process of its
 * own, monolith.yaml, on an embedded PostgreSQL of the bench's own), 16 posting at once through
 * POST /orders, against the same saga's SQL issued bare with pg from this process by 16 workers:
 * the statements ficus's contexts issue for one order, in the same transactions, sent the same way
 * (pipelined: BEGIN with the first statement, writes nobody reads with the COMMIT), with the same
 * settings (fsync and synchronous commit on; the marks of sent events asynchronous, as ficus's).
 * (3) POST → CONFIRMED latency on the monolith: one order at a time, at a steady rate of half its
 * throughput, and saturated (16 posting at once: mostly the backlog).
 * CPU per order, from /proc: the monolith process and PostgreSQL; this process and PostgreSQL
 * for the bare SQL.
 */
export async function benchOrderThroughput(): Promise<Record<string, unknown>> {
  const bench = await ShopBench.open('orders', 'FICUS_BENCH_PG_PORT', { statementStatistics: true });
  const { postgres } = bench;
  let raw: Pool | undefined;
  let counts: StatementCounts | undefined;
  try {
    counts = await StatementCounts.open(bench.database.urlOf('postgres'));
    const monolith = await bench.start('monolith');
    // The bare saga runs on a database of its own, with ficus's schemas (migrated by a monolith
    // started there and stopped), so that no ficus relay picks its rows up.
    const rawDatabase = `${bench.prefix}_raw`;
    await ensureDatabase(bench.database.adminUrl, rawDatabase);
    const migrator = await bench.start('monolith', { monolithDatabase: rawDatabase });
    await migrator.launched.stop();
    raw = new Pool({
      connectionString: bench.database.urlOf(rawDatabase),
      max: CONCURRENCY + 4,
      pipeline: true,
    } as never);
    const customerId = randomUUID();
    await raw.query('INSERT INTO notifications.recipients (customer_id, email) VALUES ($1, $2)', [
      customerId,
      'bench@example.com',
    ]);
    await raw.query('UPDATE inventory.stock SET on_hand = 100000000, reserved = 0 WHERE sku = $1', [SKU]);

    await round(monolith, WARM_UP_ORDERS, postgres, { concurrency: CONCURRENCY });
    await rawRound(raw, customerId, WARM_UP_ORDERS, postgres, rawDatabase);
    const ficusRounds: RoundResult[] = [];
    const rawRounds: RawRound[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // alternating (ficus, raw, raw, ficus…): a noisy neighbour hits both alike
      if (r % 2 === 0) {
        ficusRounds.push(await round(monolith, ORDERS_PER_ROUND, postgres, { concurrency: CONCURRENCY }));
        rawRounds.push(await rawRound(raw, customerId, ORDERS_PER_ROUND, postgres, rawDatabase));
      } else {
        rawRounds.push(await rawRound(raw, customerId, ORDERS_PER_ROUND, postgres, rawDatabase));
        ficusRounds.push(await round(monolith, ORDERS_PER_ROUND, postgres, { concurrency: CONCURRENCY }));
      }
    }
    const oneAtATime = await round(monolith, ONE_AT_A_TIME_ORDERS, postgres, { oneAtATime: true });
    const ficusPerSecond = median(ficusRounds.map((r) => r.ordersPerSecond));
    const halfRate = Math.max(1, ficusPerSecond / 2);
    const paced = await round(monolith, PACED_ORDERS, postgres, { perSecond: halfRate });
    // What each side asks of PostgreSQL per order, counted after the timed rounds (counting costs).
    const [monolithDatabase] = monolith.databases;
    const footprint = {
      ficus: await counts.count(monolithDatabase, COUNTED_ORDERS, () =>
        round(monolith, COUNTED_ORDERS, postgres, { concurrency: CONCURRENCY }),
      ),
      rawPg: await counts.count(
        rawDatabase,
        COUNTED_ORDERS,
        () => rawRound(raw!, customerId, COUNTED_ORDERS, postgres, rawDatabase),
        { superuser: true },
      ),
    };

    const rawPerSecond = median(rawRounds.map((r) => r.ordersPerSecond));
    const saturated = ficusRounds.flatMap((r) => r.latenciesMs);
    const confirmed = ficusRounds.reduce((sum, r) => sum + r.confirmed, 0);
    const rawOrders = rawRounds.reduce((sum, r) => sum + r.orders, 0);
    const msPerOrder = (ticks: number, orders: number) => round2((seconds(ticks) * 1_000) / orders);
    const figures = {
      ordersPerRound: ORDERS_PER_ROUND,
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      ficusConfirmedPerSecond: round1(ficusPerSecond),
      rawPgSagaOrdersPerSecond: round1(rawPerSecond),
      ratio: Number((ficusPerSecond / rawPerSecond).toFixed(3)),
      cpuMsPerOrder: {
        ficus: {
          process: msPerOrder(sum(ficusRounds.map((r) => r.cpuTicks.ficus)), confirmed),
          postgres: msPerOrder(sum(ficusRounds.map((r) => r.cpuTicks.postgres)), confirmed),
        },
        rawPg: {
          process: msPerOrder(sum(rawRounds.map((r) => r.cpuTicks.client)), rawOrders),
          postgres: msPerOrder(sum(rawRounds.map((r) => r.cpuTicks.postgres)), rawOrders),
        },
      },
      postgresPerOrder: footprint,
      latencyMs: {
        oneAtATime: {
          p50: round1(percentile(oneAtATime.latenciesMs, 50)),
          p99: round1(percentile(oneAtATime.latenciesMs, 99)),
        },
        halfCapacity: {
          ordersPerSecond: round1(halfRate),
          p50: round1(percentile(paced.latenciesMs, 50)),
          p99: round1(percentile(paced.latenciesMs, 99)),
        },
        saturated: {
          concurrency: CONCURRENCY,
          p50: round1(percentile(saturated, 50)),
          p99: round1(percentile(saturated, 99)),
        },
      },
      aims: ORDER_AIMS,
    };
    line(
      "(2) orders CONFIRMED per second: the monolith as a process vs the saga's SQL issued bare with pg (pipelined like ficus)",
    );
    line(
      `    ficus monolith   ${figures.ficusConfirmedPerSecond} orders/s (HTTP in, saga through outbox, dispatcher and inboxes; aim ≥ ${ORDER_AIMS.confirmedPerSecond})`,
    );
    line(`    raw pg           ${figures.rawPgSagaOrdersPerSecond} orders/s (the same transactions, no framework)`);
    line(`    ratio            ${figures.ratio}   (aim ≥ ${ORDER_AIMS.ratioToBareSql})`);
    line(
      `    CPU per order    ficus ${figures.cpuMsPerOrder.ficus.process} ms + PostgreSQL ${figures.cpuMsPerOrder.ficus.postgres} ms; raw pg ${figures.cpuMsPerOrder.rawPg.process} ms + PostgreSQL ${figures.cpuMsPerOrder.rawPg.postgres} ms`,
    );
    line(
      `    asked of PostgreSQL per order (pg_stat_statements, ${COUNTED_ORDERS} orders each, 16 at a time, after the timed rounds)`,
    );
    for (const [side, counted] of [
      ['ficus monolith', footprint.ficus],
      ['raw pg        ', footprint.rawPg],
    ] as const) {
      line(`      ${side} ${describe(counted)}`);
    }
    line(`      server time the most: ficus ${longest(footprint.ficus)}; raw pg ${longest(footprint.rawPg)}`);
    line('(3) POST /orders → CONFIRMED latency on the monolith');
    line(
      `    one at a time    p50 ${figures.latencyMs.oneAtATime.p50} ms   p99 ${figures.latencyMs.oneAtATime.p99} ms   (aim p50 ≤ ${ORDER_AIMS.oneAtATimeMs.p50}, p99 ≤ ${ORDER_AIMS.oneAtATimeMs.p99})`,
    );
    line(
      `    at half capacity (${figures.latencyMs.halfCapacity.ordersPerSecond}/s) p50 ${figures.latencyMs.halfCapacity.p50} ms   p99 ${figures.latencyMs.halfCapacity.p99} ms`,
    );
    line(
      `    saturated (${CONCURRENCY} posting at once, a backlog builds) p50 ${figures.latencyMs.saturated.p50} ms   p99 ${figures.latencyMs.saturated.p99} ms`,
    );
    writeResult('order-throughput', figures);
    return figures;
  } catch (error) {
    bench.printOutputs();
    throw error;
  } finally {
    await raw?.end();
    await counts?.close();
    await bench.close();
  }
}

function describe(counted: StatementFootprint): string {
  return (
    `${counted.statements} statements in ${counted.transactions} transactions, ${counted.rowsWritten} rows ` +
    `written; ${round1(counted.serverMs)} ms of server time, waits for row locks included`
  );
}

/** The statement that took the most server time, its start and its time per order. */
function longest(counted: StatementFootprint): string {
  const [first] = counted.longest;
  if (!first) return 'nothing';
  return `${round1(first.serverMs)} ms in "${first.statement.slice(0, 60)}…" (${first.calls}×)`;
}

interface RawRound {
  readonly orders: number;
  readonly ordersPerSecond: number;
  readonly cpuTicks: { readonly client: number; readonly postgres: number };
}

async function rawRound(
  raw: Pool,
  customerId: string,
  orders: number,
  postgres: ShopBench['postgres'],
  database: string,
): Promise<RawRound> {
  const before = { client: ticksOf(process.pid)!.own, postgres: await postgres.snapshot() };
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < orders) {
        next += 1;
        await rawSaga(raw, customerId);
      }
    }),
  );
  const elapsed = performance.now() - started;
  const after = { client: ticksOf(process.pid)!.own, postgres: await postgres.snapshot() };
  return {
    orders,
    ordersPerSecond: orders / (elapsed / 1_000),
    cpuTicks: {
      client: after.client - before.client,
      postgres: postgres.ticksBetween(before.postgres, after.postgres, new Set([database])),
    },
  };
}

const EVENT_COLUMNS =
  'message_id, type, version, aggregate_id, correlation_id, causation_id, traceparent, payload, occurred_at, published_at';
/** A card token as the vault stores it (sealing costs microseconds of the client's CPU; the bare saga skips it). */
const SEALED_TOKEN = KeyEncryption.fromEnv({}).seal('tok_visa', 'payments.payment_methods:bench');

/**
 * One order's saga as ficus's contexts write it (their statements, grouped in their transactions,
 * pipelined as PipelinedTransaction sends them), one context after the other. Compensations,
 * retries and duplicates do not happen on this path.
 */
async function rawSaga(raw: Pool, customerId: string): Promise<void> {
  const orderId = randomUUID();
  const at = () => new Date().toISOString();
  const lines = JSON.stringify([{ sku: SKU, quantity: 1 }]);
  const total = { amountMinor: 1_290, currency: 'EUR' };
  const sent: string[] = [];
  /** An event row, as Outbox writes it; private ordering events are written as sent. */
  const event = (
    tx: PipelinedTransaction,
    table: string,
    type: string,
    payload: unknown,
    extra: { version?: number; private?: boolean; eventVersion?: number } = {},
  ) => {
    const id = randomUUID();
    if (!extra.private) sent.push(`${table}|${id}`);
    const columns = extra.version === undefined ? EVENT_COLUMNS : `${EVENT_COLUMNS}, stream_version`;
    const values = [
      id,
      type,
      extra.eventVersion ?? 1,
      orderId,
      orderId,
      randomUUID(),
      null,
      JSON.stringify(payload),
      at(),
    ];
    const placeholders = `$1, $2, $3, $4, $5, $6, $7, $8, $9, ${extra.private ? 'now()' : 'NULL'}${extra.version === undefined ? '' : ', $10'}`;
    tx.defer(
      `INSERT INTO ${table} (${columns}) VALUES (${placeholders})`,
      extra.version === undefined ? values : [...values, extra.version],
    );
  };
  /** A consumer's transaction: BEGIN and the inbox row leave together, the handler follows. */
  const consume = (schema: string, work: (tx: PipelinedTransaction) => Promise<void>) =>
    inPipelinedTransaction(raw, async (tx) => {
      await tx.query(
        `INSERT INTO ${schema}.inbox (message_id, consumer) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [randomUUID(), `${schema}:bench`],
      );
      await work(tx);
    });
  const recordStep = (types: Array<[string, number]>) =>
    consume('ordering', async (tx) => {
      await Promise.all([
        tx.query("SELECT pg_advisory_xact_lock(hashtext('ordering.order:' || $1))", [orderId]),
        tx.query(
          'SELECT type, payload, stream_version, occurred_at FROM ordering.order_events WHERE aggregate_id = $1 ORDER BY stream_version',
          [orderId],
        ),
      ]);
      for (const [type, version] of types) {
        event(
          tx,
          'ordering.order_events',
          type,
          { orderId },
          { version, private: type !== 'ordering.order-confirmed' },
        );
        tx.defer(
          'UPDATE ordering.order_history SET updated_at = now(), last_version = $2 WHERE order_id = $1 AND last_version < $2',
          [orderId, version],
        );
      }
    });

  // the edge has payments hold the card (ADR 0037); placing: the price, then the order's stream and its history row
  const paymentMethodId = randomUUID();
  await raw.query('INSERT INTO payments.payment_methods (id, customer_id, sealed_token) VALUES ($1, $2, $3)', [
    paymentMethodId,
    customerId,
    SEALED_TOKEN,
  ]);
  await raw.query('SELECT sku, name, price_minor, currency FROM catalog.products WHERE sku = ANY($1::text[])', [[SKU]]);
  await inPipelinedTransaction(raw, async (tx) => {
    event(
      tx,
      'ordering.order_events',
      'ordering.order-created',
      { orderId, customerId, items: JSON.parse(lines), total, paymentMethodId },
      { version: 1, eventVersion: 2 },
    );
    tx.defer(
      `INSERT INTO ordering.order_history (order_id, customer_id, status, total_minor, currency, item_count, created_at, updated_at, last_version)
       VALUES ($1, $2, 'PENDING', 1290, 'EUR', 1, now(), now(), 1) ON CONFLICT (order_id) DO NOTHING`,
      [orderId, customerId],
    );
  });
  // inventory reserves
  await consume('inventory', async (tx) => {
    await Promise.all([
      tx.query(
        `INSERT INTO inventory.reservations (order_id, status, lines) VALUES ($1, 'RESERVED', $2) ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
        [orderId, lines],
      ),
      tx.query(
        'SELECT sku, on_hand - reserved AS available, reserved FROM inventory.stock WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE',
        [[SKU]],
      ),
    ]);
    tx.defer(
      'INSERT INTO inventory.stock (sku, on_hand, reserved) VALUES ($1, 100000000, 1) ON CONFLICT (sku) DO UPDATE SET reserved = stock.reserved + 1, updated_at = now()',
      [SKU],
    );
    event(tx, 'inventory.outbox', 'inventory.stock-reserved', { orderId, items: JSON.parse(lines) });
  });
  // payments learns the price and the payment method the order takes, then the reservation, and charges
  await consume('payments', async (tx) => {
    tx.defer(
      'UPDATE payments.payment_methods SET order_id = $1 WHERE id = $3 AND customer_id = $2 AND order_id IS NULL AND sealed_token IS NOT NULL',
      [orderId, customerId, paymentMethodId],
    );
    tx.defer(
      `INSERT INTO payments.payments (order_id, amount_minor, currency, payment_method_id, status) VALUES ($1, 1290, 'EUR', $2, 'PENDING') ON CONFLICT (order_id) DO NOTHING`,
      [orderId, paymentMethodId],
    );
    await tx.query('SELECT * FROM payments.payments WHERE order_id = $1 FOR UPDATE', [orderId]);
  });
  await recordStep([['ordering.stock-reserved', 2]]);
  await consume('payments', async (tx) => {
    tx.defer(`UPDATE payments.payments SET stock_reserved = true, updated_at = now() WHERE order_id = $1`, [orderId]);
    await tx.query('SELECT * FROM payments.payments WHERE order_id = $1 FOR UPDATE', [orderId]);
    await tx.query(
      'SELECT sealed_token FROM payments.payment_methods WHERE id = $1 AND order_id = $2 AND sealed_token IS NOT NULL',
      [paymentMethodId, orderId],
    );
    await raw.query(
      'SELECT outcome, reference, reason FROM payments.fake_provider_charges WHERE idempotency_key = $1',
      [`order:${orderId}`],
    );
    await raw.query(
      `INSERT INTO payments.fake_provider_charges (idempotency_key, amount_minor, currency, outcome, reference) VALUES ($1, 1290, 'EUR', 'approved', 'ref') ON CONFLICT DO NOTHING`,
      [`order:${orderId}`],
    );
    tx.defer(
      `UPDATE payments.payments SET status = 'COMPLETED', provider_reference = 'ref', token = NULL, updated_at = now() WHERE order_id = $1`,
      [orderId],
    );
    tx.defer(
      'UPDATE payments.payment_methods SET sealed_token = NULL WHERE order_id = $1 AND sealed_token IS NOT NULL',
      [orderId],
    );
    event(tx, 'payments.outbox', 'payments.payment-completed', { orderId, amount: total, providerReference: 'ref' });
  });
  await recordStep([['ordering.payment-completed', 3]]);
  // shipping ships
  await consume('shipping', async (tx) => {
    await Promise.all([
      tx.query("SELECT pg_advisory_xact_lock(hashtext('shipping.order:' || $1))", [orderId]),
      tx.query('SELECT 1 FROM shipping.cancelled_orders WHERE order_id = $1', [orderId]),
    ]);
    await tx.query(
      `INSERT INTO shipping.shipments (shipment_id, order_id, tracking_number, status, created_at) VALUES ($1, $2, $3, 'CREATED', now()) ON CONFLICT (order_id) DO NOTHING RETURNING shipment_id`,
      [randomUUID(), orderId, `FC-${randomUUID().slice(0, 13)}`],
    );
    event(tx, 'shipping.outbox', 'shipping.shipment-created', { orderId });
  });
  await recordStep([
    ['ordering.shipment-created', 4],
    ['ordering.order-confirmed', 5],
  ]);
  // inventory commits the reservation; notifications write the email
  await consume('inventory', async (tx) => {
    await tx.query(
      'SELECT order_id, status, lines, unavailable_skus FROM inventory.reservations WHERE order_id = $1 FOR UPDATE',
      [orderId],
    );
    await tx.query(
      'SELECT sku, on_hand - reserved AS available, reserved FROM inventory.stock WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE',
      [[SKU]],
    );
    tx.defer(
      'UPDATE inventory.stock SET on_hand = on_hand - 1, reserved = reserved - 1, updated_at = now() WHERE sku = $1',
      [SKU],
    );
    tx.defer(`UPDATE inventory.reservations SET status = 'COMMITTED', committed_at = now() WHERE order_id = $1`, [
      orderId,
    ]);
  });
  await consume('notifications', async (tx) => {
    await tx.query('SELECT email FROM notifications.recipients WHERE customer_id = $1', [customerId]);
    await tx.query(
      `INSERT INTO notifications.notifications (id, recipient_id, channel, address, subject, body, order_id, kind) VALUES ($1, $2, 'email', 'a@b.c', 's', 'b', $3, 'order-confirmed') ON CONFLICT (order_id, kind) DO NOTHING RETURNING id`,
      [randomUUID(), customerId, orderId],
    );
  });
  // the dispatchers' marks: asynchronous commit, one statement per outbox
  await inPipelinedTransaction(raw, async (tx) => {
    tx.defer('SET LOCAL synchronous_commit TO off');
    const byTable = new Map<string, string[]>();
    for (const entry of sent) {
      const [table, id] = entry.split('|');
      byTable.set(table, [...(byTable.get(table) ?? []), id]);
    }
    for (const [table, ids] of byTable)
      tx.defer(`UPDATE ${table} SET published_at = now() WHERE message_id = ANY($1::uuid[])`, [ids]);
  });
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
