import { ShopClient } from '../support/http-client';
import { eventually } from '../support/eventually';
import { RawRequest } from '../support/raw-request';
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

  it('gives no place to a request whose body is still arriving: clients dripping bodies keep no one out, and each is served once its body is in', async () => {
    const customer = await new ShopClient(shop!.baseUrl).signUp();
    const body = JSON.stringify({ items: [{ sku: 'FICUS-LYRATA', quantity: 1 }], paymentToken: 'tok_visa' });
    // Three times what the gate admits and queues (2 + 2): orders with all but their last byte sent.
    // Each asks to continue, so the server's "100 Continue" shows that it has the request in hand.
    const dripping = Array.from(
      { length: 12 },
      (_, n) =>
        new RawRequest(
          shop!.baseUrl,
          `POST /orders HTTP/1.1\r\nHost: shop\r\nAuthorization: Bearer ${customer.accessToken}\r\n` +
            `Idempotency-Key: dripping-${n}-${Math.random()}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
        ),
    );
    try {
      for (const request of dripping) await request.continued();
      for (const request of dripping) request.write(body.slice(0, -1));

      const meanwhile = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
      expect(meanwhile.status).toBe(202);
      expect(dripping.map((request) => request.status)).toEqual(dripping.map(() => undefined));

      // Their last bytes: each is served as any order is (some may be shed now, as in any burst).
      for (const request of dripping) request.write(body.slice(-1));
      const statuses = await eventually(() => dripping.map((request) => request.status), {
        until: (answered) => answered.every(Boolean),
      });
      expect(statuses).toContain('202');
      expect(statuses.filter((status) => status !== '202' && status !== '503')).toEqual([]);
    } finally {
      for (const request of dripping) request.destroy();
    }
  });
});
