import { eventually } from '../support/eventually';
import { parseExposition } from '../support/metrics-scrape';
import { ShopClient } from '../support/http-client';
import { RawRequest } from '../support/raw-request';
import { startShopProcess, type ShopProcess } from '../support/shop-process';
import { freshDatabase } from '../support/test-database';

/**
 * The edge reads a body before the request takes an admission slot; the bodies being read at once
 * are bounded on their own, per client and in all (ADR 0019 addendum). Clients are told apart by
 * the address a trusted proxy (here: loopback) names in X-Forwarded-For.
 */
describe('bodies being read at once, per client and in all (monolith process)', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let shop: ShopProcess | undefined;

  beforeAll(async () => {
    database = await freshDatabase('body_reads');
    shop = await startShopProcess(database.config, {
      FICUS_TRUSTED_PROXIES: 'loopback',
      FICUS_HTTP_MAX_BODIES_READING: '5',
      FICUS_HTTP_MAX_BODIES_READING_PER_CLIENT: '3',
    });
  });
  afterAll(async () => {
    await shop?.stop();
    await database?.drop();
  });

  it('refuses a client past its bodies with 429 and everyone past the bound with 503, before reading; each body in is served', async () => {
    const customer = await new ShopClient(shop!.baseUrl).signUp();
    const order = JSON.stringify({ items: [{ sku: 'FICUS-LYRATA', quantity: 1 }], paymentToken: 'tok_visa' });
    const headersOf = (client: string) => ({
      authorization: `Bearer ${customer.accessToken}`,
      'idempotency-key': `body-reads-${Math.random()}`,
      'x-forwarded-for': client,
    });
    // An order with all but its last byte sent, from `client`; "100 Continue" shows the edge has it.
    const drip = async (client: string) => {
      const headers = Object.entries(headersOf(client)).map(([name, value]) => `${name}: ${value}\r\n`);
      const request = new RawRequest(
        shop!.baseUrl,
        `POST /orders HTTP/1.1\r\nHost: shop\r\n${headers.join('')}Content-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(order)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      );
      await request.continued();
      request.write(order.slice(0, -1));
      return request;
    };
    const post = (client: string) =>
      fetch(`${shop!.baseUrl}/orders`, {
        method: 'POST',
        headers: { ...headersOf(client), 'content-type': 'application/json' },
        body: order,
      });

    const dripping: RawRequest[] = [];
    try {
      for (let n = 0; n < 3; n++) dripping.push(await drip('198.51.100.1'));
      const fourth = await post('198.51.100.1');
      expect([fourth.status, fourth.headers.get('retry-after')]).toEqual([429, '1']);
      expect(await fourth.json()).toMatchObject({ status: 429, code: 'too-many-bodies' });

      for (let n = 0; n < 2; n++) dripping.push(await drip('198.51.100.2'));
      const anyoneElse = await post('203.0.113.7');
      expect([anyoneElse.status, anyoneElse.headers.get('retry-after')]).toEqual([503, '1']);
      expect(await anyoneElse.json()).toMatchObject({ status: 503, code: 'overloaded' });
      // A request without a body reads none, and is not held back.
      expect((await fetch(`${shop!.baseUrl}/catalog/products`)).status).toBe(200);
      // Each refusal is counted as what it was: the client's 429 apart from the process's 503.
      const scrape = parseExposition(await (await fetch(`${shop!.operationsUrl}/metrics`)).text());
      const total = (name: string) => scrape.find(name).reduce((sum, sample) => sum + sample.value, 0);
      expect([total('ficus_http_bodies_refused_total'), total('ficus_http_requests_shed_total')]).toEqual([1, 1]);

      for (const request of dripping) request.write(order.slice(-1));
      const statuses = await eventually(() => dripping.map((request) => request.status), {
        until: (answered) => answered.every(Boolean),
      });
      expect(statuses).toEqual(['202', '202', '202', '202', '202']);
      // Their places are free again.
      expect((await post('203.0.113.7')).status).toBe(202);
      expect((await post('198.51.100.1')).status).toBe(202);
    } finally {
      for (const request of dripping) request.destroy();
    }
  });
});
