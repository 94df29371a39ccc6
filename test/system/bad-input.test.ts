import { randomUUID } from 'node:crypto';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';

/** Bad input gets a clear problem+json answer with a stable code: never a 500, never a stack trace. */
describe('bad input (monolith)', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;
  let customer: ShopClient & { customerId: string };

  beforeAll(async () => {
    shop = await startShop('bad_input');
    anonymous = new ShopClient(shop.baseUrl);
    customer = await anonymous.signUp('taken@example.com');
  });
  afterAll(() => shop?.close());

  const order = (items: unknown, paymentToken: unknown = 'tok_visa') => ({ items, paymentToken });

  type Case = [
    name: string,
    act: () => Promise<{ status: number; headers: Headers; body: unknown }>,
    status: number,
    code: string,
  ];
  const cases: Case[] = [
    ['malformed JSON', () => customer.request('POST', '/orders', { rawBody: '{"items": [' }), 400, 'malformed-json'],
    ['no token', () => anonymous.post('/orders', order([{ sku: 'SOIL-MIX', quantity: 1 }])), 401, 'missing-token'],
    [
      'a token that is not one',
      () => anonymous.withToken('not.a.jwt').post('/orders', order([{ sku: 'SOIL-MIX', quantity: 1 }])),
      401,
      'invalid-token',
    ],
    ['unknown sku', () => customer.post('/orders', order([{ sku: 'NO-SUCH-PLANT', quantity: 1 }])), 422, 'unknown-sku'],
    ['quantity 0', () => customer.post('/orders', order([{ sku: 'SOIL-MIX', quantity: 0 }])), 422, 'validation-failed'],
    [
      'negative quantity',
      () => customer.post('/orders', order([{ sku: 'SOIL-MIX', quantity: -3 }])),
      422,
      'validation-failed',
    ],
    [
      'fractional quantity',
      () => customer.post('/orders', order([{ sku: 'SOIL-MIX', quantity: 1.5 }])),
      422,
      'validation-failed',
    ],
    [
      'quantity as a string',
      () => customer.post('/orders', order([{ sku: 'SOIL-MIX', quantity: '2' }])),
      422,
      'validation-failed',
    ],
    ['no items', () => customer.post('/orders', order([])), 422, 'validation-failed'],
    ['items not a list', () => customer.post('/orders', order('SOIL-MIX')), 422, 'validation-failed'],
    [
      'missing payment token',
      () => customer.post('/orders', { items: [{ sku: 'SOIL-MIX', quantity: 1 }] }),
      422,
      'validation-failed',
    ],
    [
      'unknown field',
      () => customer.post('/orders', { ...order([{ sku: 'SOIL-MIX', quantity: 1 }]), discount: 100 }),
      422,
      'validation-failed',
    ],
    ['a JSON array body', () => customer.request('POST', '/orders', { rawBody: '[1,2]' }), 422, 'validation-failed'],
    [
      'oversize body',
      () => customer.post('/orders', order([{ sku: 'SOIL-MIX', quantity: 1 }], 'x'.repeat(200_000))),
      413,
      'body-too-large',
    ],
    [
      'bad Idempotency-Key',
      () =>
        customer.placeOrder([{ sku: 'SOIL-MIX', quantity: 1 }], 'tok_visa', { 'Idempotency-Key': 'has spaces in it' }),
      400,
      'invalid-idempotency-key',
    ],
    ['order id that is not a uuid', () => customer.get('/orders/12345'), 400, 'invalid-path'],
    ['order that does not exist', () => customer.get(`/orders/${randomUUID()}`), 404, 'order-not-found'],
    [
      'timeline of an order that does not exist',
      () => customer.get(`/orders/${randomUUID()}/timeline`),
      404,
      'order-not-found',
    ],
    ['stock of an unknown sku', () => anonymous.get('/inventory/stock/NO-SUCH-PLANT'), 404, 'unknown-sku'],
    ['stock of a malformed sku', () => anonymous.get('/inventory/stock/lower%20case'), 400, 'invalid-path'],
    ['product page 0', () => anonymous.get('/catalog/products?page=0'), 400, 'invalid-query'],
    ['product page size 1000', () => anonymous.get('/catalog/products?pageSize=1000'), 400, 'invalid-query'],
    [
      'register with a bad email',
      () => anonymous.post('/identity/register', { email: 'nope', password: 'long enough pw' }),
      422,
      'validation-failed',
    ],
    [
      'register with a short password',
      () => anonymous.post('/identity/register', { email: 'a@example.com', password: 'short' }),
      422,
      'validation-failed',
    ],
    [
      'confirm with a token nobody was mailed',
      () => anonymous.post('/identity/confirm', { token: 'not-a-token-anyone-was-sent', password: 'long enough pw' }),
      422,
      'invalid-confirmation-token',
    ],
    [
      'confirm without the password',
      () => anonymous.post('/identity/confirm', { token: 'not-a-token-anyone-was-sent' }),
      422,
      'validation-failed',
    ],
    [
      'login with a wrong password',
      () => anonymous.post('/identity/login', { email: 'taken@example.com', password: 'wrong password' }),
      401,
      'invalid-credentials',
    ],
    [
      'login as nobody',
      () => anonymous.post('/identity/login', { email: 'nobody@example.com', password: 'whatever it is' }),
      401,
      'invalid-credentials',
    ],
    [
      'restock as a customer',
      () => customer.post('/inventory/stock/SOIL-MIX/restock', { quantity: 5 }),
      403,
      'forbidden',
    ],
    ['dead letters as a customer', () => customer.get('/admin/dead-letters'), 403, 'forbidden'],
    ['an unknown route', () => anonymous.get('/no/such/route'), 404, 'route-not-found'],
  ];

  it.each(cases)('%s', async (_name, act, status, code) => {
    const answer = await act();
    expect({ status: answer.status, code: (answer.body as { code?: string }).code }).toEqual({ status, code });
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = answer.body as Record<string, unknown>;
    expect(body).toMatchObject({
      status,
      type: expect.stringContaining(code),
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(JSON.stringify(body)).not.toMatch(/\bat .+\.(ts|js):\d+/);
  });

  it('the same Idempotency-Key with another body is refused, and with the same body replays the first answer', async () => {
    const key = randomUUID();
    const first = await customer.placeOrder([{ sku: 'SOIL-MIX', quantity: 1 }], 'tok_visa', { 'Idempotency-Key': key });
    expect(first.body.status).toBe('PENDING');
    await customer.finalOrder(first.body.orderId);
    const again = await customer.placeOrder([{ sku: 'SOIL-MIX', quantity: 1 }], 'tok_visa', { 'Idempotency-Key': key });
    expect(again.body.status).toBe('CONFIRMED'); // the replay tells how the order stands now
    const other = await customer.placeOrder([{ sku: 'SOIL-MIX', quantity: 2 }], 'tok_visa', { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.orderId).toBe(first.body.orderId);
    expect(again.body.replayed).toBe(true);
    expect(other.status).toBe(422);
    expect((other.body as unknown as { code: string }).code).toBe('idempotency-key-reused');
  });

  it("another customer's order answers 404, as if it did not exist", async () => {
    const mine = await customer.placeOrder([{ sku: 'SOIL-MIX', quantity: 1 }]);
    const stranger = await anonymous.signUp();
    for (const path of [
      `/orders/${mine.body.orderId}`,
      `/orders/${mine.body.orderId}/timeline`,
      `/orders/${mine.body.orderId}/details`,
    ]) {
      const answer = await stranger.get(path);
      expect({ path, status: answer.status, code: answer.body.code }).toEqual({
        path,
        status: 404,
        code: 'order-not-found',
      });
    }
  });
});
