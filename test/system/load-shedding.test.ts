import { ShopClient } from '../support/http-client';
import { parseExposition } from '../support/metrics-scrape';
import { startShopProcess, type ShopProcess } from '../support/shop-process';
import { freshDatabase } from '../support/test-database';

/** Sums a counter's samples in a Prometheus text scrape. */
function counter(scrape: string, name: string): number {
  return parseExposition(scrape)
    .find(name)
    .reduce((sum, sample) => sum + sample.value, 0);
}

describe('load shedding at the edge (monolith process)', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let shop: ShopProcess | undefined;

  beforeAll(async () => {
    database = await freshDatabase('shedding');
    // A deliberately small gate, so that a burst from one test is more than it admits.
    shop = await startShopProcess(database.config, { FICUS_HTTP_MAX_CONCURRENT: '2', FICUS_HTTP_MAX_QUEUED: '2' });
  });
  afterAll(async () => {
    await shop?.stop();
    await database?.drop();
  });

  it('when a burst exceeds what it admits, then the rest get 503 + Retry-After, nothing fails, and /metrics counts them', async () => {
    const customer = await new ShopClient(shop!.baseUrl).signUp();
    const burst = await Promise.all(
      Array.from({ length: 40 }, () => customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }])),
    );

    const statuses = new Set(burst.map((answer) => answer.status));
    expect([...statuses].sort()).toEqual([202, 503]);
    const shed = burst.filter((answer) => answer.status === 503);
    for (const answer of shed) {
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.headers.get('x-request-id')).toBeTruthy(); // shed answers carry what every answer does
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.body).toMatchObject({ status: 503, code: 'overloaded' });
    }

    // Probes and scrapes are never shed; the scrape counts exactly the requests shed.
    expect((await customer.get('/health')).status).toBe(200);
    const metrics = await fetch(`${shop!.operationsUrl}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(counter(await metrics.text(), 'ficus_http_requests_shed_total')).toBe(shed.length);

    // Every admitted order ends; nothing was half-taken.
    const admitted = burst.filter((answer) => answer.status === 202).map((answer) => answer.body.orderId);
    for (const orderId of admitted) expect((await customer.finalOrder(orderId)).status).toBe('CONFIRMED');
  });
});
