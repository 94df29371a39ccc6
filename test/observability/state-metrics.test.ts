import { randomUUID } from 'node:crypto';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { ContextRegistry } from '@infra/runtime';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { scrapeMetrics } from '../support/metrics-scrape';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

/** The state metrics of the monolith's /metrics, against what its tables and pools really hold. */
describe('state read at scrape time (monolith)', () => {
  let shop: RunningShop;
  const value = async (name: string, labels: Record<string, string>) => {
    const found = (await scrapeMetrics(shop.operationsUrl)).find(name, labels);
    if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples`);
    return found[0].value;
  };

  beforeAll(async () => {
    shop = await startShop('state_metrics');
  });
  afterAll(() => shop?.close());

  it('counts unpublished outbox rows and the age of the oldest, until the relay publishes them', async () => {
    const catalog = shop.app.get(ContextRegistry).get('catalog')!;
    expect(await value('ficus_outbox_backlog', { context: 'catalog' })).toBe(0);
    expect(await value('ficus_outbox_oldest_age_seconds', { context: 'catalog' })).toBe(0);

    await catalog.relay.stop();
    for (const ageSeconds of [90, 5]) {
      await asAdmin(
        shop.database,
        `INSERT INTO catalog.outbox (message_id, type, version, aggregate_id, correlation_id, payload, occurred_at)
         VALUES ($1, 'catalog.metrics-probe', 1, 'probe', 'probe', '{}', now() - make_interval(secs => $2))`,
        [randomUUID(), ageSeconds],
      );
    }
    await eventually(() => value('ficus_outbox_backlog', { context: 'catalog' }), { until: (n) => n === 2 });
    const age = await value('ficus_outbox_oldest_age_seconds', { context: 'catalog' });
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(120);

    await catalog.relay.start();
    await eventually(() => value('ficus_outbox_backlog', { context: 'catalog' }), { until: (n) => n === 0 });
    expect(await value('ficus_outbox_oldest_age_seconds', { context: 'catalog' })).toBe(0);
  });

  it("counts ordering's event store as its outbox", async () => {
    expect(await value('ficus_outbox_backlog', { context: 'ordering' })).toBe(0);
  });

  it('counts dead letters until they are replayed', async () => {
    const [{ id }] = await asAdmin<{ id: string }>(
      shop.database,
      `INSERT INTO shipping.dead_letters (message_id, consumer, type, version, envelope, reason, attempts)
       VALUES ($1, 'shipping:probe.v1', 'probe', 1, '{}', 'metrics test', 1) RETURNING id`,
      [randomUUID()],
    );
    await eventually(() => value('ficus_dead_letters', { context: 'shipping' }), { until: (n) => n === 1 });
    await asAdmin(shop.database, 'UPDATE shipping.dead_letters SET replayed_at = now() WHERE id = $1', [id]);
    await eventually(() => value('ficus_dead_letters', { context: 'shipping' }), { until: (n) => n === 0 });
  });

  it('counts orders per saga state, every state shown from zero', async () => {
    const before = {
      PENDING: await value('ficus_orders', { status: 'PENDING' }),
      CONFIRMED: await value('ficus_orders', { status: 'CONFIRMED' }),
      FAILED: await value('ficus_orders', { status: 'FAILED' }),
    };
    const customer = await new ShopClient(shop.baseUrl).signUp();
    const confirmed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }]);
    const declined = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }], 'tok_decline');
    await customer.finalOrder(confirmed.body.orderId);
    await customer.finalOrder(declined.body.orderId);
    await eventually(
      async () => ({
        PENDING: await value('ficus_orders', { status: 'PENDING' }),
        CONFIRMED: await value('ficus_orders', { status: 'CONFIRMED' }),
        FAILED: await value('ficus_orders', { status: 'FAILED' }),
      }),
      {
        until: (now) =>
          now.PENDING === before.PENDING && now.CONFIRMED === before.CONFIRMED + 1 && now.FAILED === before.FAILED + 1,
      },
    );
  });

  it("times each hop of an order's saga: an event's age when a consumer starts on it, and its handling", async () => {
    const consumer = { consumer: 'inventory:ordering.order-created.v2' };
    const processed = { ...consumer, outcome: 'processed' };
    const sample = async (name: string, labels: Record<string, string>) =>
      (await scrapeMetrics(shop.operationsUrl)).find(name, labels)[0]?.value ?? 0;
    const read = async () => ({
      ages: await sample('ficus_event_age_seconds_count', consumer),
      ageSum: await sample('ficus_event_age_seconds_sum', consumer),
      handled: await sample('ficus_event_handling_seconds_count', processed),
      handledSum: await sample('ficus_event_handling_seconds_sum', processed),
    });
    const before = await read();
    const customer = await new ShopClient(shop.baseUrl).signUp();
    const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }]);
    await customer.finalOrder(placed.body.orderId);
    const after = await eventually(read, { until: (now) => now.handled === before.handled + 1 });
    expect(after.ages).toBe(before.ages + 1);
    // one order's hop: more than nothing, far less than a minute
    expect(after.ageSum - before.ageSum).toBeGreaterThanOrEqual(0);
    expect(after.ageSum - before.ageSum).toBeLessThan(60);
    expect(after.handledSum - before.handledSum).toBeGreaterThan(0);
    expect(after.handledSum - before.handledSum).toBeLessThan(60);
    const scrape = await scrapeMetrics(shop.operationsUrl);
    expect(scrape.find('ficus_event_age_seconds_bucket', { ...consumer, le: '+Inf' })[0]?.value).toBe(after.ages);
  });

  it("shows each context's database pool: open, idle and waiting connections", async () => {
    const scrape = await scrapeMetrics(shop.operationsUrl);
    for (const context of BOUNDED_CONTEXTS) {
      const [total, idle, waiting] = ['total', 'idle', 'waiting'].map((state) =>
        scrape.find('ficus_db_pool_connections', { context, state }),
      );
      expect([total.length, idle.length, waiting.length]).toEqual([1, 1, 1]);
      expect(total[0].value).toBeGreaterThanOrEqual(1);
      expect(total[0].value).toBeLessThanOrEqual(10); // FICUS_DB_POOL_SIZE of the tests
      expect(idle[0].value).toBeLessThanOrEqual(total[0].value);
      expect(waiting[0].value).toBe(0); // at rest; the scrape does not count itself
    }
  });
});
