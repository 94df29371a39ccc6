import { createServer, type AddressInfo } from 'node:net';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
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

  beforeAll(async () => {
    running = await shopWithConsole('console_api');
    console = new ShopClient(running.console.url);
  }, 120_000);
  afterAll(() => running?.close());

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
