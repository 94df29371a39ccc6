import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Pool, type PoolClient } from 'pg';
import { createMonolith } from '@apps/monolith';
import { InventoryContract } from '@contracts/inventory';
import { OrderConfirmed } from '@contracts/ordering';
import { ContractBus, InProcessEventTransport } from '@infra/messaging';
import { ensureDatabase, startEmbeddedDatabase, withDatabase, type DatabaseConfig } from '@infra/persistence';
import { post, signUp } from './bench-shop';
import { line, median, percentile, writeResult } from './measure';

const SKU = 'FICUS-PUMILA';
const ORDERS_PER_ROUND = 150;
const CONCURRENCY = 16;
const ROUNDS = 2;

/**
 * (2) Orders placed and CONFIRMED per second, end to end through HTTP on the monolith, against
 * the same SQL transactions a saga makes (the ten transactions of the happy path, plus marking
 * outbox rows sent) issued directly with pg by the same number of concurrent workers.
 * (3) POST /orders → CONFIRMED latency, under that load and with one order at a time.
 */
export async function benchOrderThroughput(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ficus-bench-pg-'));
  chmodSync(dataDir, 0o755);
  const server = await startEmbeddedDatabase({ dataDir, port: Number(process.env.FICUS_BENCH_PG_PORT ?? 54349) });
  const database: DatabaseConfig = {
    adminUrl: server.adminUrl,
    database: 'ficus_bench',
    contextUrls: {},
    roleSecret: 'ficus-bench-role-secret',
    poolSize: 10,
  };
  await ensureDatabase(server.adminUrl, database.database);
  const app = await createMonolith({ database });
  await app.listen(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  // The raw saga runs on a database of its own, migrated by ficus but with no ficus process on
  // it: otherwise ficus's relays would pick up its rows and react to them.
  const rawDatabase = { ...database, database: 'ficus_bench_raw' };
  await ensureDatabase(server.adminUrl, rawDatabase.database);
  const migrator = await createMonolith({ database: rawDatabase });
  await migrator.init();
  await migrator.close();
  const raw = new Pool({ connectionString: withDatabase(server.adminUrl, rawDatabase.database), max: CONCURRENCY + 4 });

  try {
    const inventory = app.get(ContractBus).client(InventoryContract);
    await inventory.restock({ correlationId: 'bench', deadline: Date.now() + 10_000 }, { sku: SKU, quantity: 1_000_000 });
    const confirmedAt = new Map<string, number>();
    app.get(InProcessEventTransport).subscribe({
      consumer: 'bench:confirmations',
      eventKey: `${OrderConfirmed.type}.v${OrderConfirmed.version}`,
      deliver: async (envelope) => void confirmedAt.set(envelope.aggregateId, performance.now()),
    });
    const { token, customerId } = await signUp(baseUrl);
    await raw.query('INSERT INTO notifications.recipients (customer_id, email) VALUES ($1, $2)', [customerId, 'bench@example.com']);
    await raw.query('UPDATE inventory.stock SET available = 1000000 WHERE sku = $1', [SKU]);

    const ficusRounds: Array<{ perSecond: number; latencies: number[] }> = [];
    const rawRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ficusRounds.push(await ficusRound(baseUrl, token, confirmedAt, ORDERS_PER_ROUND, CONCURRENCY));
      rawRounds.push(await rawRound(raw, customerId, ORDERS_PER_ROUND, CONCURRENCY));
    }
    const unloaded = await ficusRound(baseUrl, token, confirmedAt, 40, 1);
    const halfRate = Math.max(1, median(ficusRounds.map((r) => r.perSecond)) / 2);
    const paced = await pacedRound(baseUrl, token, confirmedAt, 100, halfRate);

    const ficusPerSecond = median(ficusRounds.map((r) => r.perSecond));
    const rawPerSecond = median(rawRounds);
    const loaded = ficusRounds.flatMap((r) => r.latencies);
    const figures = {
      ordersPerRound: ORDERS_PER_ROUND,
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      ficusConfirmedPerSecond: round1(ficusPerSecond),
      rawPgSagaTransactionsPerSecond: round1(rawPerSecond),
      ratio: Number((ficusPerSecond / rawPerSecond).toFixed(3)),
      aim: '≥ 0.5',
      latencyMs: {
        saturated: { concurrency: CONCURRENCY, p50: round1(percentile(loaded, 50)), p99: round1(percentile(loaded, 99)) },
        halfCapacity: {
          ordersPerSecond: round1(halfRate),
          p50: round1(percentile(paced, 50)),
          p99: round1(percentile(paced, 99)),
        },
        oneAtATime: { p50: round1(percentile(unloaded.latencies, 50)), p99: round1(percentile(unloaded.latencies, 99)) },
      },
    };
    line('(2) orders CONFIRMED per second, monolith end to end vs the same SQL transactions issued with pg');
    line(`    ficus monolith   ${figures.ficusConfirmedPerSecond} orders/s (HTTP in, saga through outbox and inbox)`);
    line(`    raw pg           ${figures.rawPgSagaTransactionsPerSecond} orders/s (the saga's transactions, no framework)`);
    line(`    ratio            ${figures.ratio}   (aim ≥ 0.5)`);
    line('(3) POST /orders → CONFIRMED latency on the monolith');
    line(`    one at a time    p50 ${figures.latencyMs.oneAtATime.p50} ms   p99 ${figures.latencyMs.oneAtATime.p99} ms`);
    line(
      `    at half capacity (${figures.latencyMs.halfCapacity.ordersPerSecond}/s) p50 ${figures.latencyMs.halfCapacity.p50} ms   p99 ${figures.latencyMs.halfCapacity.p99} ms`,
    );
    line(
      `    saturated (${CONCURRENCY} posting at once, a backlog builds) p50 ${figures.latencyMs.saturated.p50} ms   p99 ${figures.latencyMs.saturated.p99} ms`,
    );
    writeResult('order-throughput', figures);
    return figures;
  } finally {
    await raw.end();
    await app.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function ficusRound(
  baseUrl: string,
  token: string,
  confirmedAt: Map<string, number>,
  orders: number,
  concurrency: number,
): Promise<{ perSecond: number; latencies: number[] }> {
  const postedAt = new Map<string, number>();
  const started = performance.now();
  await pool(orders, concurrency, async () => {
    const at = performance.now();
    const { orderId } = (await post(baseUrl, '/orders', { items: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_visa' }, token)) as {
      orderId: string;
    };
    postedAt.set(orderId, at);
    // one at a time means one saga at a time: wait for this one before the next
    if (concurrency === 1) await until(() => confirmedAt.has(orderId));
  });
  await until(() => [...postedAt.keys()].every((id) => confirmedAt.has(id)), 120_000);
  const last = Math.max(...[...postedAt.keys()].map((id) => confirmedAt.get(id)!));
  return {
    perSecond: orders / ((last - started) / 1_000),
    latencies: [...postedAt.entries()].map(([id, at]) => confirmedAt.get(id)! - at),
  };
}

/** Orders arriving at a steady rate (an open loop), not faster than the shop can confirm them. */
async function pacedRound(
  baseUrl: string,
  token: string,
  confirmedAt: Map<string, number>,
  orders: number,
  perSecond: number,
): Promise<number[]> {
  const postedAt = new Map<string, number>();
  const gapMs = 1_000 / perSecond;
  const started = performance.now();
  const posts: Array<Promise<void>> = [];
  for (let i = 0; i < orders; i++) {
    const due = started + i * gapMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    posts.push(
      (async () => {
        const at = performance.now();
        const { orderId } = (await post(baseUrl, '/orders', { items: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_visa' }, token)) as {
          orderId: string;
        };
        postedAt.set(orderId, at);
      })(),
    );
  }
  await Promise.all(posts);
  await until(() => [...postedAt.keys()].every((id) => confirmedAt.has(id)), 120_000);
  return [...postedAt.entries()].map(([id, at]) => confirmedAt.get(id)! - at);
}

async function rawRound(raw: Pool, customerId: string, orders: number, concurrency: number): Promise<number> {
  const started = performance.now();
  await pool(orders, concurrency, () => rawSaga(raw, customerId));
  return orders / ((performance.now() - started) / 1_000);
}

/** The happy path's transactions, as the saga issues them, without ficus in between. */
async function rawSaga(raw: Pool, customerId: string): Promise<void> {
  const orderId = randomUUID();
  const line1 = { sku: SKU, quantity: 1, unitPrice: { amountMinor: 1_290, currency: 'EUR' } };
  const total = { amountMinor: 1_290, currency: 'EUR' };
  const now = () => new Date().toISOString();
  const event = async (c: PoolClient, table: string, type: string, payload: unknown, version?: number) => {
    const columns = 'message_id, type, version, aggregate_id, correlation_id, causation_id, payload, occurred_at';
    if (version === undefined) {
      await c.query(`INSERT INTO ${table} (${columns}) VALUES ($1, $2, 1, $3, $3, $4, $5, $6)`, [randomUUID(), type, orderId, randomUUID(), JSON.stringify(payload), now()]);
    } else {
      await c.query(`INSERT INTO ${table} (${columns}, stream_version) VALUES ($1, $2, 1, $3, $3, $4, $5, $6, $7)`, [
        randomUUID(), type, orderId, randomUUID(), JSON.stringify(payload), now(), version,
      ]);
    }
    await c.query('SELECT pg_notify($1, $2)', [`ficus_outbox_${table.split('.')[0]}`, table]);
  };
  const inbox = (c: PoolClient, schema: string) =>
    c.query(`INSERT INTO ${schema}.inbox (message_id, consumer) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`, [randomUUID(), `${schema}:bench`]);
  const tx = async (work: (c: PoolClient) => Promise<void>) => {
    const c = await raw.connect();
    try {
      await c.query('BEGIN');
      await work(c);
      await c.query('COMMIT');
    } catch (error) {
      await c.query('ROLLBACK');
      throw error;
    } finally {
      c.release();
    }
  };
  const recordStep = (type: string, version: number, extra: Array<[string, number]> = []) =>
    tx(async (c) => {
      await inbox(c, 'ordering');
      await c.query('SELECT type, payload, stream_version, occurred_at FROM ordering.order_events WHERE aggregate_id = $1 ORDER BY stream_version', [orderId]);
      for (const [t, v] of [[type, version] as [string, number], ...extra]) {
        await event(c, 'ordering.order_events', t, { orderId }, v);
        await c.query('UPDATE ordering.order_history SET updated_at = now(), last_version = $2 WHERE order_id = $1 AND last_version < $2', [orderId, v]);
      }
    });

  await tx(async (c) => {
    await event(c, 'ordering.order_events', 'ordering.order-created', { orderId, customerId, items: [line1], total, paymentToken: 'tok_visa' }, 1);
    await c.query(
      `INSERT INTO ordering.order_history (order_id, customer_id, status, total_minor, currency, item_count, created_at, updated_at, last_version)
       VALUES ($1, $2, 'PENDING', 1290, 'EUR', 1, now(), now(), 1)`,
      [orderId, customerId],
    );
  });
  await tx(async (c) => {
    await inbox(c, 'inventory');
    await c.query(`INSERT INTO inventory.reservations (order_id, status, lines) VALUES ($1, 'RESERVED', $2) ON CONFLICT DO NOTHING RETURNING order_id`, [orderId, JSON.stringify([{ sku: SKU, quantity: 1 }])]);
    await c.query('SELECT sku, available, reserved FROM inventory.stock WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE', [[SKU]]);
    await c.query('UPDATE inventory.stock SET available = available - 1, reserved = reserved + 1, updated_at = now() WHERE sku = $1', [SKU]);
    await event(c, 'inventory.outbox', 'inventory.stock-reserved', { orderId, items: [{ sku: SKU, quantity: 1 }] });
  });
  await tx(async (c) => {
    await inbox(c, 'payments');
    await c.query(`INSERT INTO payments.payments (order_id, amount_minor, currency, token, status) VALUES ($1, 1290, 'EUR', 'tok_visa', 'PENDING') ON CONFLICT DO NOTHING`, [orderId]);
  });
  await recordStep('ordering.stock-reserved', 2);
  await tx(async (c) => {
    await inbox(c, 'payments');
    await c.query('SELECT * FROM payments.payments WHERE order_id = $1 FOR UPDATE', [orderId]);
    await raw.query('SELECT outcome FROM payments.fake_provider_charges WHERE idempotency_key = $1', [`order:${orderId}`]);
    await raw.query(`INSERT INTO payments.fake_provider_charges (idempotency_key, amount_minor, currency, outcome, reference) VALUES ($1, 1290, 'EUR', 'approved', 'ref') ON CONFLICT DO NOTHING`, [`order:${orderId}`]);
    await c.query(`UPDATE payments.payments SET status = 'COMPLETED', provider_reference = 'ref', updated_at = now() WHERE order_id = $1`, [orderId]);
    await event(c, 'payments.outbox', 'payments.payment-completed', { orderId, amount: total, providerReference: 'ref' });
  });
  await tx(async (c) => {
    await inbox(c, 'shipping');
    await c.query(`INSERT INTO shipping.shipments (shipment_id, order_id, tracking_number, status, created_at) VALUES ($1, $2, $3, 'CREATED', now())`, [randomUUID(), orderId, `FC-${randomUUID()}`]);
    await event(c, 'shipping.outbox', 'shipping.shipment-created', { orderId });
  });
  await recordStep('ordering.payment-completed', 3);
  await recordStep('ordering.shipment-created', 4, [['ordering.order-confirmed', 5]]);
  await tx(async (c) => {
    await inbox(c, 'inventory');
    await c.query('SELECT * FROM inventory.reservations WHERE order_id = $1 FOR UPDATE', [orderId]);
    await c.query('SELECT sku FROM inventory.stock WHERE sku = ANY($1::text[]) FOR UPDATE', [[SKU]]);
    await c.query('UPDATE inventory.stock SET reserved = reserved - 1, updated_at = now() WHERE sku = $1', [SKU]);
    await c.query(`UPDATE inventory.reservations SET status = 'COMMITTED', committed_at = now() WHERE order_id = $1`, [orderId]);
  });
  await tx(async (c) => {
    await inbox(c, 'notifications');
    await c.query('SELECT email FROM notifications.recipients WHERE customer_id = $1', [customerId]);
    await c.query(
      `INSERT INTO notifications.notifications (id, recipient_id, channel, address, subject, body, order_id, kind) VALUES ($1, $2, 'email', 'a@b.c', 's', 'b', $3, 'order-confirmed')`,
      [randomUUID(), customerId, orderId],
    );
  });
  // what the relays do: mark the order's rows sent, one statement per outbox
  for (const table of ['ordering.order_events', 'inventory.outbox', 'payments.outbox', 'shipping.outbox']) {
    await raw.query(`UPDATE ${table} SET published_at = now() WHERE aggregate_id = $1 AND published_at IS NULL`, [orderId]);
  }
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

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('benchmark: orders did not confirm in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
