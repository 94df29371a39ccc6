import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { parseExposition } from '../support/metrics-scrape';
import { startFaultySplit, type FaultySplit } from './support/faulty-split';
import { placeOrders } from './support/order-load';
import { auditOrders, deadLetterCount, reportTable, stockLevel, type ScenarioReport } from './support/saga-audit';

/**
 * The fault suite: the shop split into eight processes, a fault proxy on every wire (each
 * service's gRPC, Kafka, PostgreSQL), and one scenario per fault. Each scenario places orders
 * while its fault happens, then audits every context's books (saga-audit.ts) and reports
 * orders attempted / confirmed / failed / stuck, lost events and duplicated effects; the table
 * is printed at the end and written to .data/faults/report.md (docs/resilience.md explains it).
 */

const SKU = 'SOIL-MIX';
const BROKER_DOWN_MS = Number(process.env.FICUS_FAULTS_BROKER_DOWN_MS ?? 60_000);

type OrderView = { id: string; status: string; failureReason?: string };

function metricValue(scrape: string, name: string, labels: Record<string, string>): number | undefined {
  return parseExposition(scrape).find(name, labels)[0]?.value;
}

describe('the split shop under faults', () => {
  let split: FaultySplit;
  const reports: ScenarioReport[] = [];

  beforeAll(async () => {
    split = await startFaultySplit();
    // Plenty of one sku, so that no scenario fails orders for want of stock.
    await split.query('inventory', 'UPDATE inventory.stock SET available = 100000 WHERE sku = $1', [SKU]);
  }, 300_000);

  afterAll(async () => {
    const table = reportTable(reports);
    const directory = resolve(__dirname, '../../.data/faults');
    mkdirSync(directory, { recursive: true });
    writeFileSync(
      join(directory, 'report.md'),
      `${table}\n\n${reports.map((r) => `${r.scenario}: ${r.problems.join('; ') || 'clean'}`).join('\n')}\n`,
    );
    process.stdout.write(`\nfault suite (split topology)\n\n${table}\n\n`);
    await split?.close();
  }, 120_000);

  /**
   * A scenario that failed prints what every process said last (the suite runs them at warn), and
   * keeps it in .data/faults/<scenario>/: a failure seen once in CI must say why.
   */
  function showProcessOutput(scenarioName: string) {
    const directory = resolve(__dirname, '../../.data/faults', scenarioName.replace(/[^a-z0-9]+/gi, '-'));
    mkdirSync(directory, { recursive: true });
    for (const [target, output] of Object.entries(split.outputTails(2_000))) {
      writeFileSync(join(directory, `${target}.log`), output);
      const tail = output.split('\n').slice(-40).join('\n');
      process.stdout.write(`\n--- ${scenarioName}: the last lines of ${target} (all in ${directory}) ---\n${tail}\n`);
    }
  }

  /** A scenario: a new customer, the books before, the fault, then the audit of that customer's orders. */
  async function scenario(
    name: string,
    run: (customer: ShopClient & { customerId: string }) => Promise<number[]>,
    timeoutMs?: number,
  ) {
    const customer = await new ShopClient(split.baseUrl).signUp();
    // Every order the shop accepted (202) must be found by the audit.
    const acceptedIds: string[] = [];
    const placeOrder = customer.placeOrder.bind(customer);
    customer.placeOrder = async (...args) => {
      const answer = await placeOrder(...args);
      if (answer.status === 202) acceptedIds.push(answer.body.orderId);
      return answer;
    };
    const stockBefore = await stockLevel(split, SKU);
    const deadLettersBefore = await deadLetterCount(split);
    const answers = await run(customer);
    const report = await auditOrders(split, {
      scenario: name,
      customerId: customer.customerId,
      sku: SKU,
      stockBefore,
      deadLettersBefore,
      answers,
      acceptedIds,
      timeoutMs,
    });
    expect(acceptedIds.length).toBe(answers.filter((status) => status === 202).length);
    reports.push(report);
    if (report.problems.length > 0) showProcessOutput(name);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ stuck: 0, lost: 0, duplicated: 0 });
    // What the client was told instead of 202 is always something to retry, never a 500.
    for (const status of Object.keys(report.refused)) expect(['503', '504']).toContain(status);
    return report;
  }

  it('payments answering in 2 s: callers time out, the breaker opens, fast 503s, then it recovers', async () => {
    await scenario('payments answers in 2 s', async (customer) => {
      const placed = await customer.placeOrder([{ sku: SKU, quantity: 1 }]);
      const { orderId } = placed.body;
      expect((await customer.finalOrder(orderId)).status).toBe('CONFIRMED');
      expect((await customer.get(`/orders/${orderId}/payment`)).status).toBe(200);

      split.grpc.payments.set({ latencyMs: 2_000 });
      const answers: Array<{ status: number; code?: string; retryAfter: string | null }> = [];
      for (let i = 0; i < 10; i++) {
        const answer = await customer.get<{ code?: string }>(`/orders/${orderId}/payment`);
        answers.push({ status: answer.status, code: answer.body.code, retryAfter: answer.headers.get('retry-after') });
      }
      // The first calls time out (the method's 1 s cap); the breaker opens; then 503 at once.
      expect(answers[0]).toMatchObject({ status: 504, code: 'deadline-exceeded' });
      expect(answers.at(-1)).toMatchObject({ status: 503, code: 'circuit-open' });
      expect(Number(answers.at(-1)!.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(metricValue(await split.scrape('gateway'), 'ficus_circuit_breaker_state', { target: 'payments' })).toBe(2);

      // Orders still go through: the saga reaches payments by events, not by this call.
      const during = await placeOrders(customer, { count: 5, sku: SKU, concurrency: 1 }).done;

      // Healed: once the breaker has been open its 5 s, calls probe it, and two good ones close it.
      split.grpc.payments.heal();
      await eventually(
        async () => {
          const answer = await customer.get(`/orders/${orderId}/payment`);
          return {
            status: answer.status,
            breaker: metricValue(await split.scrape('gateway'), 'ficus_circuit_breaker_state', { target: 'payments' }),
          };
        },
        {
          until: (seen) => seen.status === 200 && seen.breaker === 0,
          timeoutMs: 30_000,
          intervalMs: 250,
          what: 'payments answers and the breaker closes',
        },
      );
      return [placed.status, ...during];
    });
  });

  it('slow shipping does not starve catalog reads (bulkhead isolation)', async () => {
    await scenario('slow shipping, catalog reads', async (customer) => {
      const placed = await customer.placeOrder([{ sku: SKU, quantity: 1 }]);
      expect((await customer.finalOrder(placed.body.orderId)).status).toBe('CONFIRMED');

      split.grpc.shipping.set({ latencyMs: 3_000 });
      const details = Array.from({ length: 30 }, () =>
        customer.get<{ shipment: { available: boolean; reason?: string } }>(`/orders/${placed.body.orderId}/details`),
      );
      const catalog = Array.from({ length: 30 }, () => customer.get('/catalog/products'));
      const catalogAnswers = await Promise.all(catalog);
      const detailAnswers = await Promise.all(details);
      split.grpc.shipping.heal();

      // Catalog reads all answer; the details page answers too, with the shipment marked unavailable.
      expect(catalogAnswers.map((a) => a.status)).toEqual(catalogAnswers.map(() => 200));
      expect(new Set(detailAnswers.map((a) => a.status))).toEqual(new Set([200]));
      const reasons = new Set(detailAnswers.map((a) => a.body.shipment.reason));
      expect(reasons.has('bulkhead-full')).toBe(true);
      expect(
        metricValue(await split.scrape('gateway'), 'ficus_remote_calls_rejected_total', {
          target: 'shipping',
          reason: 'bulkhead-full',
        }),
      ).toBeGreaterThan(0);
      await eventually(
        () => customer.get<{ shipment: { available: boolean } }>(`/orders/${placed.body.orderId}/details`),
        {
          until: (a) => a.body.shipment.available,
          timeoutMs: 30_000,
          intervalMs: 500,
          what: 'shipping answers again',
        },
      );
      return [placed.status];
    });
  });

  it('a service SIGKILLed under load and restarted: no order stuck, every saga ends', async () => {
    await scenario('payments, then ordering SIGKILLed under load', async (customer) => {
      // POST /orders holds the card in payments first (ADR 0037): while payments is down orders
      // are refused with 503, and the client sends them again until it is back.
      const load = placeOrders(customer, { count: 40, sku: SKU, concurrency: 4, retryRefused: true });
      await eventually(() => load.accepted(), { until: (n) => n >= 10, timeoutMs: 60_000 });
      await split.launched.kill('payments');
      await split.launched.restart('payments');
      await eventually(() => load.accepted(), { until: (n) => n >= 25, timeoutMs: 60_000 });
      await split.launched.kill('ordering'); // POST /orders is refused while it is down
      await split.launched.restart('ordering');
      return load.done;
    });
  });

  it('the relay killed between publishing and marking rows sent: duplicates absorbed, nothing lost', async () => {
    await scenario('relay killed before marking sent', async (customer) => {
      const answers = await placeOrders(customer, { count: 10, sku: SKU, concurrency: 2 }).done;
      const ids = (
        await customer.get<{ items: Array<{ orderId: string }> }>('/customers/me/orders?limit=50')
      ).body.items.map((o) => o.orderId);
      await Promise.all(ids.map((id) => customer.finalOrder(id, 60_000)));

      // The state such a crash leaves: the events are in Kafka, their rows still look unsent.
      await split.launched.kill('ordering');
      await split.launched.kill('inventory');
      const unmarked = await split.query<{ seq: string }>(
        'ordering',
        'UPDATE ordering.order_events SET published_at = NULL WHERE aggregate_id = ANY($1) RETURNING seq',
        [ids],
      );
      await split.query(
        'inventory',
        "UPDATE inventory.outbox SET published_at = NULL WHERE payload->>'orderId' = ANY($1)",
        [ids],
      );
      expect(unmarked.length).toBeGreaterThanOrEqual(ids.length * 4);
      await split.launched.restart('ordering');
      await split.launched.restart('inventory');

      // They are sent again, and every consumer has seen them before.
      await eventually(
        () =>
          split.query<{ n: string }>(
            'ordering',
            'SELECT count(*) AS n FROM ordering.order_events WHERE published_at IS NULL AND aggregate_id = ANY($1)',
            [ids],
          ),
        {
          until: ([row]) => Number(row.n) === 0,
          timeoutMs: 60_000,
          what: 'the unmarked events are published again',
        },
      );
      return answers;
    });
  });

  it('a consumer crashing before it commits its offsets: redelivered, effect once', async () => {
    await scenario('consumer crash before commit', async (customer) => {
      const answers = await placeOrders(customer, { count: 8, sku: SKU, concurrency: 2 }).done;
      await split.launched.kill('shipping');
      // A crash before the commit leaves the offsets behind what was processed; here, all the way
      // back to the start, so every event shipping ever handled comes again.
      const admin = new Kafka({
        clientId: 'faults-admin',
        brokers: ['127.0.0.1:9492'],
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        const groupId = `${split.namespace}.shipping`;
        const topics = (await admin.fetchOffsets({ groupId })).map((t) => t.topic);
        expect(topics.length).toBeGreaterThan(0);
        await eventually(
          async () => {
            for (const topic of topics) await admin.resetOffsets({ groupId, topic, earliest: true });
          },
          { timeoutMs: 30_000, intervalMs: 500, what: 'the crashed member leaves the group (session timeout)' },
        );
      } finally {
        await admin.disconnect();
      }
      await split.launched.restart('shipping');
      return answers;
    });
  });

  it('PostgreSQL connections reset during transactions: no half-written effects', async () => {
    await scenario('PostgreSQL connections reset', async (customer) => {
      const load = placeOrders(customer, { count: 30, sku: SKU, concurrency: 4 });
      for (const atLeast of [5, 12, 19]) {
        await eventually(() => load.accepted(), { until: (n) => n >= atLeast, timeoutMs: 60_000 });
        split.postgres.resetAll();
      }
      return load.done;
    });
  });

  it('an order stuck past its saga deadline is compensated and ends FAILED with a reason', async () => {
    await scenario('saga deadline passed (shipping down)', async (customer) => {
      await split.launched.stopTarget('ordering');
      await split.launched.restart('ordering', { FICUS_SAGA_DEADLINE_MS: '4000' });
      await split.launched.stopTarget('shipping');
      const answers = await placeOrders(customer, { count: 4, sku: SKU, concurrency: 2 }).done;
      const ids = (
        await customer.get<{ items: Array<{ orderId: string }> }>('/customers/me/orders?limit=50')
      ).body.items.map((o) => o.orderId);
      expect(ids).toHaveLength(4);
      for (const id of ids) {
        const order = (await customer.finalOrder(id, 30_000)) as OrderView;
        expect(order.status).toBe('FAILED');
        expect(order.failureReason).toMatch(/^saga-deadline-exceeded/);
      }
      await split.launched.restart('shipping');
      // Shipping, back, learns each failure and ships nothing (checked by the audit once it has).
      await eventually(
        () =>
          split.query<{ n: string }>(
            'shipping',
            'SELECT count(*) AS n FROM shipping.cancelled_orders WHERE order_id = ANY($1::uuid[])',
            [ids],
          ),
        {
          until: ([row]) => Number(row.n) === ids.length,
          timeoutMs: 60_000,
          what: 'shipping learned every failure',
        },
      );
      const [refunds] = await split.query<{ n: string }>(
        'payments',
        'SELECT count(*) AS n FROM payments.fake_provider_refunds WHERE idempotency_key = ANY($1)',
        [ids.map((id) => `refund:order:${id}`)],
      );
      expect(Number(refunds.n)).toBe(ids.length); // paid, then given back
      await split.launched.stopTarget('ordering');
      await split.launched.restart('ordering');
      return answers;
    });
    const last = reports.at(-1)!;
    expect(last.failed).toBe(4);
  });

  it(`the Kafka broker stopped for ${BROKER_DOWN_MS / 1000} s: orders still accepted, the backlog drains, every order ends`, async () => {
    const report = await scenario(
      `Kafka broker stopped ${BROKER_DOWN_MS / 1000} s`,
      async (customer) => {
        await split.broker.stop();
        // Orders keep coming for as long as the broker is down.
        const answers = await placeOrders(customer, {
          count: 12,
          sku: SKU,
          concurrency: 1,
          spacingMs: BROKER_DOWN_MS / 12,
        }).done;
        const [backlog] = await split.query<{ n: string }>(
          'ordering',
          'SELECT count(*) AS n FROM ordering.order_events WHERE published_at IS NULL',
        );
        expect(Number(backlog.n)).toBeGreaterThanOrEqual(12);
        await split.broker.start();
        return answers;
      },
      180_000,
    );
    expect(report.refused).toEqual({});
    expect(report.confirmed).toBe(12);
  }, 400_000);
});
