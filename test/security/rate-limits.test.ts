import { RateLimiter, type RateLimitClock } from '@apps/http-edge';
import { rawRequest, ShopClient, type HttpAnswer } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin, freshDatabase } from '../support/test-database';

const LIMITS = {
  FICUS_RATE_LIMIT_DEFAULT: '6/2s',
  FICUS_RATE_LIMIT_ORDERS: '3/60s',
  FICUS_RATE_LIMIT_IDENTITY: '8/60s',
};

/**
 * The windows' clock, held by the test: each test starts at the beginning of an hour of its own
 * (every window length here divides an hour), so no window ends in the middle of a test and none
 * carries counts over from another; moving on to the next window is a step, not a wait.
 */
class HeldClock implements RateLimitClock {
  private static hours = 0;
  private at = 0;

  /** One second into a fresh hour, far from every other test's. */
  startFresh(): void {
    HeldClock.hours += 1;
    this.at = Date.UTC(2030, 0, 1) + HeldClock.hours * 3_600_000 + 1_000;
  }

  step(seconds: number): void {
    this.at += seconds * 1000;
  }

  now(): Date {
    return new Date(this.at);
  }
}

function expectRateLimitHeaders(answer: HttpAnswer, limit: number) {
  expect(answer.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(Number(answer.headers.get('ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
  expect(Number(answer.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
}

describe('rate limits at the edge, shared by replicas through PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let first: RunningShop;
  let second: RunningShop;
  const saved: Record<string, string | undefined> = {};
  let ada: ShopClient;
  let bob: ShopClient;
  let cy: ShopClient & { customerId: string };
  const clock = new HeldClock();

  beforeAll(async () => {
    for (const [name, value] of Object.entries(LIMITS)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    database = await freshDatabase('rate_limits');
    // Two edges on one database, as two gateway replicas behind a load balancer.
    first = await startShop('rate_limits', { database: database.config });
    second = await startShop('rate_limits', { database: database.config });
    for (const replica of [first, second]) replica.app.get(RateLimiter).useClock(clock);
    clock.startFresh();
    // Before the first test spends this address's sign-up budget.
    const anonymous = new ShopClient(first.baseUrl);
    ada = await anonymous.signUp();
    bob = await anonymous.signUp();
    cy = await anonymous.signUp();
  });
  beforeEach(() => clock.startFresh());

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.drop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('when one client goes past the limit across two replicas, then it gets 429 problem+json with Retry-After and RateLimit headers', async () => {
    const replicas = [new ShopClient(first.baseUrl), new ShopClient(second.baseUrl)];
    // Sign-ups the edge refuses (422): identity's own throttle of failed logins stays out of it.
    const signUp = (n: number) =>
      replicas[n % 2].post('/identity/register', { email: 'not an email', password: 'short' });

    const opening = await signUp(0);
    expect(opening.status).toBe(422);
    expectRateLimitHeaders(opening, 8);
    const left = Number(opening.headers.get('ratelimit-remaining'));
    for (let n = 1; n <= left; n++) {
      const answer = await signUp(n);
      expect(answer.status).toBe(422);
      // One counter for both replicas: each answer, whichever replica gave it, has one less left.
      expect(answer.headers.get('ratelimit-remaining')).toBe(String(left - n));
    }
    for (const replica of [0, 1]) {
      const refused = await signUp(replica);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.body).toMatchObject({
        status: 429,
        code: 'rate-limited',
        type: 'https://ficus.dev/problems/rate-limited',
      });
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expectRateLimitHeaders(refused, 8);
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
      expect(refused.headers.get('ratelimit-reset')).toBe(String(retryAfter));
    }
    // The counters are rows of the edge's own schema, not of any bounded context's.
    const rows = await asAdmin<{ bucket: string }>(database.config, 'SELECT bucket FROM edge.rate_limit_windows');
    expect(rows.map((row) => row.bucket)).toContain('identity|POST /identity/register|ip:127.0.0.1');
  });

  it('when requests race on both replicas at once, then exactly the limit gets through', async () => {
    const replicas = [new ShopClient(first.baseUrl), new ShopClient(second.baseUrl)];
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) => replicas[n % 2].get('/.well-known/jwks.json')),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(6);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(14);
  });

  it('when a signed-in customer places too many orders, then only they are limited, and only on that route', async () => {
    const item = [{ sku: 'FICUS-LYRATA', quantity: 1 }];

    const placed = [
      await ada.placeOrder(item),
      await ada.at(second.baseUrl).placeOrder(item),
      await ada.placeOrder(item),
    ];
    expect(placed.map((answer) => answer.status)).toEqual([202, 202, 202]);
    const refused = await ada.at(second.baseUrl).placeOrder(item);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'rate-limited' });

    // Bob comes from the same address, but his token makes him another client.
    expect((await bob.placeOrder(item)).status).toBe(202);
    // Ada's reads count apart from her orders.
    expect((await ada.get('/customers/me/orders')).status).toBe(200);
  });

  it('when a customer spells the orders path another way, then it is the same counter or no route: never a fresh counter', async () => {
    const body = JSON.stringify({ items: [{ sku: 'FICUS-LYRATA', quantity: 1 }], paymentToken: 'tok_visa' });
    const post = (target: string) => rawRequest(first.baseUrl, 'POST', target, { body, token: cy.accessToken });

    // Spellings of /orders itself: served, and each counted on /orders's one counter.
    const served = [await post('/orders/'), await post('//orders'), await post('/%6Frders?utm=x')];
    expect(served.map((answer) => answer.status)).toEqual([202, 202, 202]);
    expect(served.map((answer) => answer.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0']);
    // Other letter cases are no route (routing is case-sensitive); dot segments and encoded
    // slashes are no path at all. None of them is served, none touches /orders's counter.
    const others: Record<string, number> = {};
    for (const target of ['/Orders', '/ORDERS', '/orders/.', '/./orders', '/%2forders', '/orders%2F', '/orders%00']) {
      const answer = await post(target);
      others[target] = answer.status;
      expect({ target, type: answer.headers.get('content-type'), body: answer.body }).toMatchObject({
        type: expect.stringMatching(/^application\/problem\+json/) as string,
      });
    }
    expect(others).toEqual({
      '/Orders': 404,
      '/ORDERS': 404,
      '/orders/.': 400,
      '/./orders': 400,
      '/%2forders': 400,
      '/orders%2F': 400,
      '/orders%00': 400,
    });
    expect((await post('/orders')).status).toBe(429);
    // Counters of cy: /orders's, and one for every path the edge does not serve, whatever its spelling.
    const rows = await asAdmin<{ bucket: string }>(
      database.config,
      'SELECT bucket FROM edge.rate_limit_windows WHERE bucket LIKE $1',
      [`%|sub:${cy.customerId}`],
    );
    expect(rows.map((row) => row.bucket).sort()).toEqual([
      `default|POST (no route)|sub:${cy.customerId}`,
      `orders|POST /orders|sub:${cy.customerId}`,
    ]);
  });

  it('when a client asks GraphQL by GET and by POST, then both count on one counter', async () => {
    const query = '{ products { total } }';
    const byGet = () =>
      rawRequest(first.baseUrl, 'GET', `/graphql?query=${encodeURIComponent(query)}`, { token: bob.accessToken });
    const byPost = () =>
      rawRequest(first.baseUrl, 'POST', '/graphql', { body: JSON.stringify({ query }), token: bob.accessToken });
    const answers = [await byGet(), await byPost(), await byGet(), await byPost(), await byGet(), await byPost()];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.map((answer) => answer.headers.get('ratelimit-remaining'))).toEqual(['5', '4', '3', '2', '1', '0']);
    expect((await byPost()).status).toBe(429);
    expect((await byGet()).status).toBe(429);
  });

  it('when a client sends its own valid token to a route open to anyone, then it still counts on its address', async () => {
    // Signing in is open to anyone, and each attempt costs an argon2id hash: the tokens of the
    // accounts a client holds must not buy it a counter each.
    const anonymous = new ShopClient(first.baseUrl);
    const statuses: number[] = [];
    for (let n = 0; n < 5; n++) {
      for (const client of [ada, anonymous]) {
        const attempt = { email: `nobody-${n}@example.com`, password: 'not the password' };
        statuses.push((await client.post('/identity/login', attempt)).status);
      }
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 429, 429]); // 8 a minute, token or none
    const rows = await asAdmin<{ bucket: string }>(
      database.config,
      "SELECT bucket FROM edge.rate_limit_windows WHERE bucket LIKE 'identity|POST /identity/login|%'",
    );
    expect(rows.some((row) => row.bucket.includes('|sub:'))).toBe(false);
  });

  it('when the window ends, then the client may come back; probes and scrapes are never limited', async () => {
    const client = new ShopClient(first.baseUrl);
    const admitted = [];
    for (let n = 0; n < 6; n++) admitted.push((await client.get('/catalog/products?pageSize=1')).status);
    expect(admitted).toEqual([200, 200, 200, 200, 200, 200]);
    const refused = await client.get('/catalog/products?pageSize=1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-limit')).toBe('6');
    expect(refused.headers.get('ratelimit-reset')).toBe('1'); // one second into a 2 s window
    clock.step(1);
    const next = await client.get('/catalog/products?pageSize=1');
    expect(next.status).toBe(200); // the next window admits the client again
    expect(next.headers.get('ratelimit-remaining')).toBe('5');

    // Readiness and metrics are on the operations port (test/security/operations-port.test.ts).
    const probes = await Promise.all(Array.from({ length: 20 }, () => client.get('/health')));
    expect(probes.map((answer) => answer.status)).toEqual(probes.map(() => 200));
    expect(probes.every((answer) => answer.headers.get('ratelimit-limit') === null)).toBe(true);
    // Only that path: one below it is no route, and counted like any other.
    const below = await client.get('/health/deep');
    expect(below.status).toBe(404);
    expect(below.headers.get('ratelimit-limit')).toBe('6');
  });
});
