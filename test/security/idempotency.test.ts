import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { withDatabase } from '@infra/persistence';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

/** Idempotency-Key on POST /orders: replay, reuse, a duplicate in flight, and expiry. */
describe('Idempotency-Key on POST /orders (monolith, over HTTP)', () => {
  let shop: RunningShop;
  let customer: ShopClient & { customerId: string };
  const item = (quantity = 1) => [{ sku: 'SOIL-MIX', quantity }];
  const withKey = (key: string) => ({ 'Idempotency-Key': key });
  const ordersOf = async (customerId: string) =>
    Number(
      (
        await asAdmin<{ n: string }>(
          shop.database,
          'SELECT count(*) AS n FROM ordering.order_history WHERE customer_id = $1',
          [customerId],
        )
      )[0].n,
    );

  beforeAll(async () => {
    shop = await startShop('idempotency');
    customer = await new ShopClient(shop.baseUrl).signUp();
  });
  afterAll(() => shop?.close());

  it('when the same key comes with the same body, then it replays the first order; with another body, then 422', async () => {
    const key = randomUUID();
    const first = await customer.placeOrder(item(), 'tok_visa', withKey(key));
    const again = await customer.placeOrder(item(), 'tok_visa', withKey(key));
    const other = await customer.placeOrder(item(2), 'tok_visa', withKey(key));
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body).toMatchObject({ orderId: first.body.orderId, replayed: true });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: 'idempotency-key-reused' });
  });

  it('when a duplicate arrives while the first request is still in progress, then it gets 409 idempotency-key-in-use', async () => {
    const key = randomUUID();
    // Hold the first request inside its pricing call: the catalogue's table is locked.
    const admin = new Client({ connectionString: withDatabase(shop.database.adminUrl, shop.database.database) });
    await admin.connect();
    let first: ReturnType<typeof customer.placeOrder>;
    try {
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE catalog.products IN ACCESS EXCLUSIVE MODE');
      first = customer.placeOrder(item(), 'tok_visa', withKey(key));
      await eventually(
        () => asAdmin(shop.database, 'SELECT 1 FROM ordering.order_idempotency_keys WHERE idempotency_key = $1', [key]),
        { until: (rows) => rows.length === 1, what: 'the first request claims its key' },
      );
      const duplicates = await Promise.all([1, 2, 3].map(() => customer.placeOrder(item(), 'tok_visa', withKey(key))));
      for (const duplicate of duplicates) {
        expect(duplicate.status).toBe(409);
        expect(duplicate.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(duplicate.body).toMatchObject({ status: 409, code: 'idempotency-key-in-use' });
      }
    } finally {
      await admin.query('COMMIT').catch(() => undefined);
      await admin.end();
    }
    const placed = await first;
    expect(placed.status).toBe(202);
    expect(placed.body.replayed).toBe(false);
    const replay = await customer.placeOrder(item(), 'tok_visa', withKey(key));
    expect(replay.body).toMatchObject({ orderId: placed.body.orderId, replayed: true });
  });

  it('when many requests with one key race, then exactly one order is placed and the rest are refused or replayed', async () => {
    const racer = await new ShopClient(shop.baseUrl).signUp();
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => racer.placeOrder(item(), 'tok_visa', withKey(key))),
    );
    const placed = answers.filter((answer) => answer.status === 202 && !answer.body.replayed);
    expect(placed).toHaveLength(1);
    for (const answer of answers.filter((a) => a !== placed[0])) {
      if (answer.status === 202) expect(answer.body).toMatchObject({ orderId: placed[0].body.orderId, replayed: true });
      else expect(answer).toMatchObject({ status: 409, body: { code: 'idempotency-key-in-use' } });
    }
    expect(await ordersOf(racer.customerId)).toBe(1);
  });

  it('when a request with a key fails, then the key is free for a corrected retry', async () => {
    const key = randomUUID();
    const refused = await customer.post(
      '/orders',
      { items: [{ sku: 'NO-SUCH-PLANT', quantity: 1 }], paymentToken: 'tok_visa' },
      withKey(key),
    );
    expect(refused.status).toBe(422);
    const retried = await customer.placeOrder(item(), 'tok_visa', withKey(key));
    expect(retried.status).toBe(202);
    expect(retried.body.replayed).toBe(false);
  });

  it('when a key is older than FICUS_IDEMPOTENCY_TTL_HOURS (24 by default), then it is treated as a new key', async () => {
    const key = randomUUID();
    const first = await customer.placeOrder(item(), 'tok_visa', withKey(key));
    expect(first.status).toBe(202);
    await asAdmin(
      shop.database,
      "UPDATE ordering.order_idempotency_keys SET created_at = now() - interval '25 hours' WHERE idempotency_key = $1",
      [key],
    );

    // Another body is no reuse any more, and the same body is a new order.
    const other = await customer.placeOrder(item(3), 'tok_visa', withKey(key));
    expect(other.status).toBe(202);
    expect(other.body.replayed).toBe(false);
    expect(other.body.orderId).not.toBe(first.body.orderId);
    const replay = await customer.placeOrder(item(3), 'tok_visa', withKey(key));
    expect(replay.body).toMatchObject({ orderId: other.body.orderId, replayed: true });
  });
});
