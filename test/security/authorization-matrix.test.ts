import { randomUUID } from 'node:crypto';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { eventually } from '../support/eventually';
import { ShopClient, type HttpAnswer } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';
import { edgeControllers } from '../support/edge-controllers';

const ROLES = ['anonymous', 'customer', 'otherCustomer', 'admin'] as const;
type Role = (typeof ROLES)[number];
type Expected = Record<Role, number>;

const anyone = (status: number): Expected => ({
  anonymous: status,
  customer: status,
  otherCustomer: status,
  admin: status,
});
const signedIn = (status: number): Expected => ({
  anonymous: 401,
  customer: status,
  otherCustomer: status,
  admin: status,
});
/** Another customer's order does not exist for them (404, not 403: ids cannot be probed). */
const ownerOrAdmin: Expected = { anonymous: 401, customer: 200, otherCustomer: 404, admin: 200 };
const adminOnly = (status: number): Expected => ({ anonymous: 401, customer: 403, otherCustomer: 403, admin: status });

interface Route {
  readonly method: 'GET' | 'POST';
  /** As declared on the controller, e.g. `orders/:id`. */
  readonly route: string;
  readonly path: () => string;
  readonly body?: () => unknown;
  readonly expected: Expected;
}

/** Every route of the public API, read from the controllers' own metadata. */
function declaredRoutes(): string[] {
  const controllers = edgeControllers();
  return controllers.flatMap((controller) => {
    const prefix = (Reflect.getMetadata(PATH_METADATA, controller) as string | undefined) ?? '/';
    return Object.getOwnPropertyNames(controller.prototype)
      .map((name) => (controller.prototype as Record<string, unknown>)[name])
      .filter(
        (handler): handler is object => typeof handler === 'function' && Reflect.hasMetadata(METHOD_METADATA, handler),
      )
      .map((handler) => {
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const path = [prefix, Reflect.getMetadata(PATH_METADATA, handler) as string]
          .join('/')
          .replace(/\/+/g, '/')
          .replace(/^\//, '');
        return `${method} ${path}`;
      });
  });
}

/**
 * Every public route × {anonymous, customer, another customer, admin} → the status each must get:
 * BOLA (another's order → 404) and BFLA (admin routes → 403 for customers, 401 without a token).
 */
describe('authorization matrix (monolith)', () => {
  let shop: RunningShop;
  const clients = {} as Record<Role, ShopClient>;
  let orderId: string;
  let customerId: string;
  const customerEmail = `owner-${randomUUID()}@example.com`;
  const credentials = { email: `signin-${randomUUID()}@example.com`, password: 'correct horse battery' };
  /** Refresh tokens of separate sign-ins: each case of the refresh and logout routes uses one up. */
  const refreshTokens: string[] = [];
  const freshRefreshToken = () => ({ refreshToken: refreshTokens.shift() });

  beforeAll(async () => {
    shop = await startShop('authorization_matrix');
    const anonymous = new ShopClient(shop.baseUrl);
    clients.anonymous = anonymous;
    const customer = await anonymous.signUp(customerEmail);
    clients.customer = customer;
    customerId = customer.customerId;
    clients.otherCustomer = await anonymous.signUp();
    const adminEmail = `admin-${randomUUID()}@example.com`;
    const admin = await anonymous.signUp(adminEmail, 'admin password here');
    // An operator grants the role (`ficus admins grant`, test/security/admins.test.ts); promoting
    // in the table is the same row change, without booting the CLI. The next login carries it.
    await asAdmin(
      shop.database,
      `UPDATE identity.customers SET roles = ARRAY['customer', 'admin'] WHERE customer_id = $1`,
      [admin.customerId],
    );
    const adminLogin = await anonymous.post<{ accessToken: string }>('/identity/login', {
      email: adminEmail,
      password: 'admin password here',
    });
    clients.admin = anonymous.withToken(adminLogin.body.accessToken);
    await anonymous.signUp(credentials.email, credentials.password);
    for (let signIn = 0; signIn < 2 * ROLES.length; signIn += 1) {
      refreshTokens.push(
        (await anonymous.post<{ refreshToken: string }>('/identity/login', credentials)).body.refreshToken,
      );
    }
    const placed = await clients.customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    orderId = placed.body.orderId;
    await clients.customer.finalOrder(orderId);
  });
  afterAll(() => shop?.close());

  const routes: Route[] = [
    { method: 'GET', route: 'catalog/products', path: () => '/catalog/products', expected: anyone(200) },
    {
      method: 'GET',
      route: 'catalog/products/:sku',
      path: () => '/catalog/products/FICUS-LYRATA',
      expected: anyone(200),
    },
    {
      method: 'GET',
      route: 'inventory/stock/:sku',
      path: () => '/inventory/stock/FICUS-LYRATA',
      expected: anyone(200),
    },
    {
      method: 'POST',
      route: 'inventory/stock/:sku/restock',
      path: () => '/inventory/stock/FICUS-LYRATA/restock',
      body: () => ({ quantity: 1 }),
      expected: adminOnly(201),
    },
    {
      method: 'POST',
      route: 'identity/register',
      path: () => '/identity/register',
      body: () => ({ email: `new-${randomUUID()}@example.com`, password: 'long enough pw' }),
      expected: anyone(202),
    },
    // A token nobody was mailed: anyone may try, and gets the same refusal.
    {
      method: 'POST',
      route: 'identity/confirm',
      path: () => '/identity/confirm',
      body: () => ({ token: `bogus-${randomUUID()}`, password: 'long enough pw' }),
      expected: anyone(422),
    },
    // The link's page: the same for every token, and it confirms nothing by itself.
    {
      method: 'GET',
      route: 'identity/confirm',
      path: () => `/identity/confirm?token=bogus-${randomUUID()}`,
      expected: anyone(200),
    },
    {
      method: 'GET',
      route: 'dev/mailbox',
      path: () => `/dev/mailbox?to=${encodeURIComponent(customerEmail)}`,
      expected: anyone(200),
    },
    {
      method: 'POST',
      route: 'identity/login',
      path: () => '/identity/login',
      body: () => credentials,
      expected: anyone(200),
    },
    {
      method: 'POST',
      route: 'identity/token',
      path: () => '/identity/token',
      body: freshRefreshToken,
      expected: anyone(200),
    },
    {
      method: 'POST',
      route: 'identity/logout',
      path: () => '/identity/logout',
      body: freshRefreshToken,
      expected: anyone(204),
    },
    { method: 'GET', route: '.well-known/jwks.json', path: () => '/.well-known/jwks.json', expected: anyone(200) },
    {
      method: 'POST',
      route: 'orders',
      path: () => '/orders',
      body: () => ({ items: [{ sku: 'SOIL-MIX', quantity: 1 }], paymentToken: 'tok_visa' }),
      expected: signedIn(202),
    },
    { method: 'GET', route: 'orders/:id', path: () => `/orders/${orderId}`, expected: ownerOrAdmin },
    { method: 'GET', route: 'orders/:id/timeline', path: () => `/orders/${orderId}/timeline`, expected: ownerOrAdmin },
    { method: 'GET', route: 'orders/:id/payment', path: () => `/orders/${orderId}/payment`, expected: ownerOrAdmin },
    { method: 'GET', route: 'orders/:id/details', path: () => `/orders/${orderId}/details`, expected: ownerOrAdmin },
    { method: 'GET', route: 'customers/me/orders', path: () => '/customers/me/orders', expected: signedIn(200) },
    { method: 'GET', route: 'notifications', path: () => '/notifications', expected: signedIn(200) },
    { method: 'GET', route: 'health', path: () => '/health', expected: anyone(200) },
    // GraphQL answers 200 with its errors in the body; what each role may see is the next test's.
    {
      method: 'POST',
      route: 'graphql',
      path: () => '/graphql',
      body: () => ({ query: '{ products(pageSize: 1) { total } }' }),
      expected: anyone(200),
    },
    {
      method: 'GET',
      route: 'graphql',
      path: () => `/graphql?query=${encodeURIComponent('{ products(pageSize: 1) { total } }')}`,
      expected: anyone(200),
    },
    { method: 'GET', route: 'docs', path: () => '/docs', expected: anyone(200) },
    { method: 'GET', route: 'docs/openapi.json', path: () => '/docs/openapi.json', expected: anyone(200) },
    { method: 'GET', route: 'docs/schema.graphql', path: () => '/docs/schema.graphql', expected: anyone(200) },
    { method: 'GET', route: 'admin/dead-letters', path: () => '/admin/dead-letters', expected: adminOnly(200) },
    // A customer's orders by their id: for admins only, the customer themself included.
    {
      method: 'GET',
      route: 'admin/customers/:customerId/orders',
      path: () => `/admin/customers/${customerId}/orders`,
      expected: adminOnly(200),
    },
    // No such dead letter: the admin is let through and told so; everyone else never gets that far.
    {
      method: 'POST',
      route: 'admin/dead-letters/:context/:id/replay',
      path: () => '/admin/dead-letters/ordering/999999/replay',
      expected: adminOnly(404),
    },
    // Rotating mid-matrix is part of the test: the tokens of every later case were signed before it.
    { method: 'POST', route: 'admin/keys/rotate', path: () => '/admin/keys/rotate', expected: adminOnly(201) },
    {
      method: 'POST',
      route: 'admin/order-history/rebuild',
      path: () => '/admin/order-history/rebuild',
      expected: adminOnly(201),
    },
  ];

  it('covers every route the controllers declare, and no other', () => {
    expect(routes.map((r) => `${r.method} ${r.route}`).sort()).toEqual(declaredRoutes().sort());
  });

  const cases = routes.flatMap((route) =>
    ROLES.map((role) => [`${route.method} ${route.route}`, role, route.expected[role], route] as const),
  );

  it.each(cases)('%s as %s → %i', async (_name, role, status, route) => {
    const answer: HttpAnswer = await clients[role].request(route.method, route.path(), { body: route.body?.() });
    expect({ status: answer.status, body: answer.body }).toEqual({
      status,
      body: status >= 400 ? expect.anything() : answer.body,
    });
    if (status === 401) expect(answer.body).toMatchObject({ code: 'missing-token' });
    if (status === 403) expect(answer.body).toMatchObject({ code: 'forbidden' });
    if (status >= 400) expect(answer.headers.get('content-type')).toContain('application/problem+json');
  });

  it('lets each role see an order through GraphQL exactly as through GET /orders/:id', async () => {
    const query = 'query ($id: ID!) { order(id: $id) { id } }';
    for (const role of ROLES) {
      const rest = await clients[role].get<{ code?: string }>(`/orders/${orderId}`);
      const answer = await clients[role].graphql<{ order: { id: string } | null }>(query, { id: orderId });
      const error = answer.body.errors?.[0]?.extensions;
      expect({ role, status: error?.status ?? 200, code: error?.code, id: answer.body.data?.order?.id }).toEqual({
        role,
        status: ownerOrAdmin[role],
        code: rest.body.code,
        id: rest.status === 200 ? orderId : undefined,
      });
    }
  });

  it("answers another customer's order exactly as an order that does not exist", async () => {
    const missing = randomUUID();
    const theirs = await clients.otherCustomer.get(`/orders/${orderId}`);
    const nothing = await clients.otherCustomer.get(`/orders/${missing}`);
    expect(JSON.stringify(theirs.body).replaceAll(orderId, 'ID')).toBe(
      JSON.stringify(nothing.body).replaceAll(missing, 'ID'),
    );
  });

  it("never shows a customer another's orders or notifications, not even with all=true", async () => {
    await eventually(
      async () => {
        const mine = await clients.customer.get<{ items: unknown[] }>('/notifications');
        if (mine.body.items.length === 0) throw new Error('no notification yet');
      },
      { what: "the customer's notification" },
    );
    const orders = await clients.otherCustomer.get<{ items: Array<{ orderId: string }> }>('/customers/me/orders');
    expect(orders.body.items.map((item) => item.orderId)).not.toContain(orderId);
    const notifications = await clients.otherCustomer.get<{ items: Array<{ to: string }> }>('/notifications?all=true');
    expect(notifications.status).toBe(200);
    expect(notifications.body.items.map((item) => item.to)).not.toContain(customerEmail);
    const everyone = await clients.admin.get<{ items: Array<{ to: string }> }>('/notifications?all=true');
    expect(everyone.body.items.map((item) => item.to)).toContain(customerEmail);
  });
});
