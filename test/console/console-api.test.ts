import { createServer, type AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { startTracing, type TracingHandle } from '@infra/observability';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { consoleOn, shopWithConsole, type ShopWithConsole } from '../support/console';

/**
 * `ficus console`'s API beside the monolith: for the shop's admins only, checked by the server on
 * every call; the map of where each module runs and how each process is; a process that does
 * not answer shows as down, and the map still answers.
 */
describe('the console beside the monolith', () => {
  let running: ShopWithConsole;
  let console: ShopClient;
  let tracing: TracingHandle | undefined;

  beforeAll(async () => {
    // The shop keeps its latest spans, as FICUS_TRACE_BUFFER has a process do (an order's trace).
    tracing = startTracing('ficus-monolith', { FICUS_TRACE_BUFFER: '5000' });
    running = await shopWithConsole('console_api');
    console = new ShopClient(running.console.url);
  }, 120_000);
  afterAll(async () => {
    await running?.close();
    await tracing?.shutdown();
  });

  const signIn = (who: { email: string; password: string }) =>
    console.post<{ accessToken: string; code?: string; detail?: string }>('/api/session', who);

  it('serves its page and the front end it needs, and nothing else from disk', async () => {
    const page = await console.request<string>('GET', '/');
    expect([page.status, page.headers.get('content-security-policy')]).toEqual([
      200,
      expect.stringMatching(/script-src 'self' 'sha256-/),
    ]);
    for (const path of ['/console.js', '/console.css', '/vendor/preact.mjs', '/vendor/hooks.mjs', '/vendor/htm.mjs']) {
      expect([path, (await console.request('GET', path)).status]).toEqual([path, 200]);
    }
    for (const path of [
      '/vendor/package.json',
      '/vendor/..%2F..%2Fpackage.json',
      '/public/index.html',
      '/etc/passwd',
    ]) {
      const refused = await console.request<{ code: string }>('GET', path);
      expect([path, refused.status, refused.body.code]).toEqual([path, 404, 'not-found']);
    }
  });

  it('answers to a loopback name only: a page reaching its port under another name (DNS rebinding) is turned away', async () => {
    const { port } = new URL(running.console.url);
    const asked = async (host: string, path: string, body?: string) => {
      const answer = await rawRequest(Number(port), host, path, body);
      return [host, path, answer.status, answer.status === 421 ? JSON.parse(answer.body).code : 'answered'];
    };
    const password = JSON.stringify({ email: running.admin.email, password: 'not-the-password' });
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
      expect(await asked(host, '/', undefined)).toEqual([host, '/', 421, 'unknown-host']);
      expect(await asked(host, '/api/session', password)).toEqual([host, '/api/session', 421, 'unknown-host']);
    }
    // No Host at all: Node's HTTP server refuses an HTTP/1.1 request without one itself.
    expect((await rawRequest(Number(port), '', '/')).status).toBe(400);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, 'localhost']) {
      expect(await asked(host, '/', undefined)).toEqual([host, '/', 200, 'answered']);
    }
  });

  it('on every address (0.0.0.0) too, answers to loopback names and the names it is given only', async () => {
    const wide = await consoleOn(running.topology, running.shop.baseUrl, process.env, {
      host: '0.0.0.0',
      publicNames: ['console.example.org'],
    });
    try {
      const port = Number(new URL(wide.url).port);
      const status = async (host: string) => (await rawRequest(port, host, '/')).status;
      for (const host of ['evil.example', `evil.example:${port}`, `console.example.org.evil.example:${port}`]) {
        expect([host, await status(host)]).toEqual([host, 421]);
      }
      for (const host of [`console.example.org:${port}`, `CONSOLE.example.org`, `localhost:${port}`, '[::1]']) {
        expect([host, await status(host)]).toEqual([host, 200]);
      }
    } finally {
      await wide.close();
    }
  });

  it('signs an admin in through the shop, and refuses a customer, a wrong password and a malformed body', async () => {
    const admin = await signIn(running.admin);
    expect(admin.status).toBe(200);
    expect(admin.body.accessToken).toMatch(/^ey/);
    const customer = await signIn(running.customer);
    expect([customer.status, customer.body.code, customer.headers.get('content-type')]).toEqual([
      403,
      'not-an-admin',
      'application/problem+json; charset=utf-8',
    ]);
    const wrong = await signIn({ ...running.admin, password: 'not it at all' });
    expect(wrong.status).toBe(401);
    const malformed = await console.request<{ code: string }>('POST', '/api/session', { rawBody: '{"email":' });
    expect([malformed.status, malformed.body.code]).toEqual([400, 'malformed-json']);
    const missing = await console.post<{ code: string }>('/api/session', { email: running.admin.email });
    expect([missing.status, missing.body.code]).toEqual([400, 'validation-failed']);
  });

  it("answers the map to an admin's token only: 401 without one, 403 for a customer's, whatever the page shows", async () => {
    expect((await console.get<{ code: string }>('/api/map')).body.code).toBe('missing-token');
    const shop = new ShopClient(running.shop.baseUrl);
    const customerToken = (await shop.post<{ accessToken: string }>('/identity/login', running.customer)).body
      .accessToken;
    const asCustomer = await console.withToken(customerToken).get<{ code: string }>('/api/map');
    expect([asCustomer.status, asCustomer.body.code]).toEqual([403, 'not-an-admin']);
    const forged = await console.withToken(`${customerToken.slice(0, -4)}AAAA`).get<{ code: string }>('/api/map');
    expect([forged.status, forged.body.code]).toEqual([401, 'invalid-token']);
    expect((await console.get<{ code: string }>('/api/nothing')).status).toBe(404);
  });

  it('maps the monolith: one ready process holding every module, the graph drawn inside it', async () => {
    const token = (await signIn(running.admin)).body.accessToken;
    const map = await console.withToken(token).get<{
      topology: { name: string };
      processes: Array<{ target: string; modules: string[]; ready: boolean | string; breakers: object }>;
      svg: string;
    }>('/api/map');
    expect(map.status).toBe(200);
    expect(map.body.topology.name).toBe('monolith');
    expect(map.body.processes.map(({ target, ready }) => [target, ready])).toEqual([['monolith', true]]);
    expect([...map.body.processes[0].modules].sort()).toEqual([...BOUNDED_CONTEXTS].sort());
    expect(map.body.svg).toMatch(/^<svg/);
    expect(map.body.svg).toContain('target monolith');
    for (const context of BOUNDED_CONTEXTS) expect(map.body.svg).toContain(`>${context}<`);
  });

  it("puts each edge's calls per second on the map, from one reading to the next", async () => {
    const token = (await signIn(running.admin)).body.accessToken;
    const readMap = () =>
      console.withToken(token).get<{ calls: Record<string, { total: number; perSecond?: number }> }>('/api/map');
    const before = (await readMap()).body.calls['edge→catalog'].total;
    const shop = new ShopClient(running.shop.baseUrl);
    for (let read = 0; read < 10; read += 1) expect((await shop.get('/catalog/products')).status).toBe(200);
    const after = await eventually(async () => (await readMap()).body.calls['edge→catalog'], {
      until: (calls) => (calls.perSecond ?? 0) > 0,
      timeoutMs: 10_000,
      what: 'a reading a second after the calls',
    });
    expect(after.total - before).toBeGreaterThanOrEqual(10);
  });

  it("keeps each busy edge's rate, failing share and latency reading by reading, for the charts", async () => {
    const token = (await signIn(running.admin)).body.accessToken;
    type Series = {
      at: number[];
      edges: Record<string, { perSecond: unknown[]; failingPercent: unknown[]; meanMs: unknown[] }>;
    };
    const readSeries = async () => (await console.withToken(token).get<{ series: Series }>('/api/map')).body.series;
    const shop = new ShopClient(running.shop.baseUrl);
    const series = await eventually(
      async () => {
        for (let read = 0; read < 5; read += 1) expect((await shop.get('/catalog/products')).status).toBe(200);
        return readSeries();
      },
      {
        until: (read) =>
          (read.edges['edge→catalog']?.perSecond ?? []).some((value) => typeof value === 'number' && value > 0),
        timeoutMs: 15_000,
        what: 'edge→catalog in the series',
      },
    );
    const catalog = series.edges['edge→catalog'];
    for (const column of [catalog.perSecond, catalog.failingPercent, catalog.meanMs]) {
      expect(column).toHaveLength(series.at.length); // one value (or null) per reading
    }
    expect(series.at).toEqual([...series.at].sort((a, b) => a - b));
    const point = catalog.perSecond.findIndex((value) => typeof value === 'number' && value > 0);
    expect(catalog.failingPercent[point]).toBe(0);
    expect(catalog.meanMs[point]).toEqual(expect.any(Number));
  });

  interface ConsoleOrder {
    status: string;
    details: { order: { id: string; customerId: string } };
    timeline: Array<{ step: string; context: string; kind: string }>;
    trace: {
      traceId: string;
      keptBy: string[];
      unreachable: string[];
      spans: Array<{ traceId: string; name: string }>;
    };
  }

  it("finds an order by id and by its customer: its saga step by step, each step's context, and its trace", async () => {
    const token = (await signIn(running.admin)).body.accessToken;
    const admin = console.withToken(token);
    const customer = await new ShopClient(running.shop.baseUrl).signUp();
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    expect((await customer.finalOrder(placed.body.orderId)).status).toBe('CONFIRMED');

    const order = await eventually(
      async () => (await admin.get<ConsoleOrder>(`/api/orders/${placed.body.orderId}`)).body,
      {
        // The saga's last spans end a moment after the order is confirmed.
        until: (answer) => answer.trace.spans.some((span) => span.name === 'process ordering.order-confirmed'),
        what: "the order's trace, whole",
      },
    );
    expect([order.status, order.details.order.id, order.details.order.customerId]).toEqual([
      'CONFIRMED',
      placed.body.orderId,
      customer.customerId,
    ]);
    expect(order.timeline.map(({ step, context }) => `${context}: ${step}`)).toEqual([
      'ordering: ORDER_CREATED',
      'inventory: STOCK_RESERVED',
      'payments: PAYMENT_COMPLETED',
      'shipping: SHIPMENT_CREATED',
      'ordering: ORDER_CONFIRMED',
    ]);
    expect(order.trace).toMatchObject({ traceId: expect.stringMatching(/^[\da-f]{32}$/), keptBy: ['monolith'] });
    expect(order.trace.spans.every((span) => span.traceId === order.trace.traceId)).toBe(true);
    expect(order.trace.spans.map((span) => span.name)).toEqual(
      expect.arrayContaining(['POST /orders', 'process ordering.order-created', 'process payments.payment-completed']),
    );

    const orders = await admin.get<{ items: Array<{ orderId: string; status: string }> }>(
      `/api/customers/${customer.customerId}/orders`,
    );
    expect(orders.body.items).toEqual([expect.objectContaining({ orderId: placed.body.orderId, status: 'CONFIRMED' })]);
    // A page at a time: the second page of one order is empty; a page that is none reads the first.
    const second = await admin.get<{ items: unknown[]; total: number }>(
      `/api/customers/${customer.customerId}/orders?page=2`,
    );
    expect([second.body.items, second.body.total]).toEqual([[], 1]);
    const zero = await admin.get<{ items: unknown[] }>(`/api/customers/${customer.customerId}/orders?page=0`);
    expect(zero.body.items).toHaveLength(1);
  });

  it('shows a failed saga with its compensation', async () => {
    const admin = console.withToken((await signIn(running.admin)).body.accessToken);
    const customer = await new ShopClient(running.shop.baseUrl).signUp();
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }], 'tok_decline');
    expect((await customer.finalOrder(placed.body.orderId)).status).toBe('FAILED');
    const order = (await admin.get<ConsoleOrder>(`/api/orders/${placed.body.orderId}`)).body;
    expect(order.status).toBe('FAILED');
    expect(order.timeline.map(({ step, kind }) => `${kind}: ${step}`)).toEqual(
      expect.arrayContaining(['outcome: PAYMENT_FAILED', 'compensation: STOCK_RELEASED', 'outcome: ORDER_FAILED']),
    );
  });

  it("refuses a malformed or unknown id, and a customer's token, with the shop's own codes", async () => {
    const admin = console.withToken((await signIn(running.admin)).body.accessToken);
    for (const path of [
      '/api/orders/not-an-id',
      '/api/customers/1%27%20OR%201=1/orders',
      '/api/orders/..%2F..%2Fadmin',
    ]) {
      const refused = await admin.get<{ code: string }>(path);
      expect([path, refused.status, refused.body.code]).toEqual([path, 400, 'validation-failed']);
    }
    const unknown = await admin.get<{ code: string }>(`/api/orders/${randomUUID()}`);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'order-not-found']);
    const nobody = await admin.get<{ items: unknown[] }>(`/api/customers/${randomUUID()}/orders`);
    expect([nobody.status, nobody.body.items]).toEqual([200, []]);

    const customer = await new ShopClient(running.shop.baseUrl).signUp();
    const asCustomer = await console
      .withToken(customer.accessToken!)
      .get<{ code: string }>(`/api/orders/${randomUUID()}`);
    expect([asCustomer.status, asCustomer.body.code]).toEqual([403, 'not-an-admin']);
    // The shop's own admin route refuses a customer too, even for their own orders.
    const direct = await customer.get<{ code: string }>(`/admin/customers/${customer.customerId}/orders`);
    expect(direct.status).toBe(403);
  });

  it('shows a process that does not answer as down, and keeps answering', async () => {
    const closed = await freePort(); // nothing listens there once it is closed
    const topology = running.topology.withTarget('monolith', (target) => ({
      ...target,
      operations: { host: '127.0.0.1', port: closed },
    }));
    const blind = await consoleOn(topology, running.shop.baseUrl);
    try {
      const client = new ShopClient(blind.url);
      const token = (await client.post<{ accessToken: string }>('/api/session', running.admin)).body.accessToken;
      const map = await client.withToken(token).get<{
        processes: Array<{ target: string; ready: boolean | string }>;
        svg: string;
        callsUnavailable?: string;
      }>('/api/map');
      expect(map.status).toBe(200);
      expect(map.body.processes.map(({ target, ready }) => [target, ready])).toEqual([['monolith', 'unreachable']]);
      expect(map.body.callsUnavailable).toBe('no process answers');
      expect(map.body.svg).toContain('target monolith');
    } finally {
      await blind.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** An HTTP request with the Host header given (fetch sets its own), answered as status and text. */
function rawRequest(
  port: number,
  host: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // '' sends none at all (as HTTP/1.0 may)
    const headers: Record<string, string> = host ? { host } : {};
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json' });
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: body === undefined ? 'GET' : 'POST',
      headers,
      setHost: host !== '',
    });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}
