import { loadTopology, parseTopology, shippedTopologyPath, TopologyError } from '@infra/topology';
import { startShop, type RunningShop } from '../support/shop';
import { ALL_CONTEXTS, flowList } from '../support/contexts';

/**
 * Issue 15, item 8: /ready told anonymous callers the database's error text and ran its queries
 * for anyone, exempt from rate limits, on the public port. Readiness and metrics are now served on
 * an operations port of the process's own; the public port answers a cheap /health alone, under
 * every spelling of the other two paths.
 */
describe('the operations port', () => {
  let shop: RunningShop;
  beforeAll(async () => {
    shop = await startShop('operations_port');
  });
  afterAll(() => shop?.close());

  describe('on the public port', () => {
    it.each([
      '/ready',
      '/metrics',
      '/READY',
      '/Metrics',
      '/ready/',
      '//metrics',
      '/%72eady',
      '/metrics?format=text',
      '/ready;x',
      `/traces/${'a'.repeat(32)}`,
    ])('GET %s is no route: 404 problem+json, and nothing of readiness or metrics', async (path) => {
      const answer = await fetch(`${shop.baseUrl}${path}`);
      const body = await answer.text();
      expect({ status: answer.status, type: answer.headers.get('content-type') }).toEqual({
        status: expect.any(Number),
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      expect([400, 404]).toContain(answer.status);
      expect(body).not.toMatch(/ficus_|process_cpu|"details"|catalog/);
    });

    it('HEAD /ready is no route either', async () => {
      expect((await fetch(`${shop.baseUrl}/ready`, { method: 'HEAD' })).status).toBe(404);
    });

    it('keeps a cheap liveness answer, which names nothing about the process', async () => {
      const answer = await fetch(`${shop.baseUrl}/health`);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ status: 'ok', info: { process: { status: 'up' } } });
    });
  });

  describe('on the operations port', () => {
    it('serves /health, /ready and /metrics', async () => {
      const [health, ready, metrics] = await Promise.all(
        ['/health', '/ready', '/metrics'].map((path) => fetch(`${shop.operationsUrl}${path}`)),
      );
      expect([health.status, ready.status, metrics.status]).toEqual([200, 200, 200]);
      expect(await ready.json()).toMatchObject({
        status: 'ok',
        info: { catalog: { status: 'up' }, ordering: { status: 'up' } },
      });
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toMatch(/^ficus_outbox_backlog\{/m);
      expect(health.headers.get('cache-control')).toBe('no-store');
    });

    it("answers a trace's kept spans, and says when the process keeps none (FICUS_TRACE_BUFFER unset)", async () => {
      const traceId = 'ab'.repeat(16);
      const answer = await fetch(`${shop.operationsUrl}/traces/${traceId}`);
      expect([answer.status, await answer.json()]).toEqual([200, { traceId, kept: false, spans: [] }]);
    });

    it('answers a burst of probes, none refused: no rate limit or admission sits in front of it', async () => {
      const statuses = await Promise.all(
        Array.from({ length: 100 }, () => fetch(`${shop.operationsUrl}/ready`).then((answer) => answer.status)),
      );
      expect(new Set(statuses)).toEqual(new Set([200]));
    });

    it('answers HEAD without a body, ignores a query string, and refuses anything else with a problem', async () => {
      const head = await fetch(`${shop.operationsUrl}/metrics`, { method: 'HEAD' });
      expect({ status: head.status, body: await head.text() }).toEqual({ status: 200, body: '' });
      expect((await fetch(`${shop.operationsUrl}/ready?verbose=1`)).status).toBe(200);

      const post = await fetch(`${shop.operationsUrl}/ready`, { method: 'POST', body: '{}' });
      expect({ status: post.status, allow: post.headers.get('allow'), type: post.headers.get('content-type') }).toEqual(
        {
          status: 405,
          allow: 'GET, HEAD',
          type: expect.stringMatching(/^application\/problem\+json/),
        },
      );
      for (const path of [
        '/orders',
        '/catalog/products',
        '/READY',
        '/ready/x',
        '/',
        '/traces/not-a-trace',
        `/traces/${'A'.repeat(32)}`,
        `/traces/${'a'.repeat(32)}/x`,
      ]) {
        const answer = await fetch(`${shop.operationsUrl}${path}`);
        expect({ path, status: answer.status, code: ((await answer.json()) as { code: string }).code }).toEqual({
          path,
          status: 404,
          code: 'route-not-found',
        });
      }
    });
  });

  describe('in a topology', () => {
    const topology = (edgeHttp: string, otherHttp = 'http: { port: 3101 }') =>
      [
        'name: t',
        'defaults: { grpc: { host: 127.0.0.1 }, kafka: { brokers: "127.0.0.1:9092" } }',
        'targets:',
        '  gateway:',
        '    edge: true',
        `    ${edgeHttp}`,
        '  core:',
        `    modules: ${flowList(ALL_CONTEXTS)}`,
        '    grpc: { port: 7101 }',
        `    ${otherHttp}`,
        '',
      ].join('\n');

    it('gives the edge its public port + 1000 unless it names one, and any other target its one HTTP port', () => {
      const derived = parseTopology(topology('http: { port: 3000 }'), 't.yaml', { env: {} });
      expect(derived.edgeTarget().operations).toEqual({ host: '127.0.0.1', port: 4000 });
      expect(derived.target('core').operations).toEqual(derived.target('core').http);
      const named = parseTopology(topology('http: { port: 3000, operationsPort: 9464 }'), 't.yaml', { env: {} });
      expect(named.edgeTarget().operations.port).toBe(9464);
      const apart = parseTopology(
        topology('http: { host: 0.0.0.0, port: 3000, operationsHost: 127.0.0.1 }'),
        't.yaml',
        {
          env: {},
        },
      );
      expect([apart.edgeTarget().http.host, apart.edgeTarget().operations]).toEqual([
        '0.0.0.0',
        { host: '127.0.0.1', port: 4000 },
      ]);
    });

    it("keeps npm start's operations on loopback while its public API listens on every interface", () => {
      // /metrics and /ready of a developer's shop are not for the LAN; in a container the image
      // sets FICUS_OPERATIONS_HOST=0.0.0.0, so that the platform's probes reach them.
      const path = shippedTopologyPath('monolith');
      const onLaptop = loadTopology(path, { env: {} }).edgeTarget();
      expect([onLaptop.http.host, onLaptop.operations.host]).toEqual(['0.0.0.0', '127.0.0.1']);
      const inImage = loadTopology(path, { env: { FICUS_OPERATIONS_HOST: '0.0.0.0' } }).edgeTarget();
      expect(inImage.operations.host).toBe('0.0.0.0');
    });

    it('refuses an operations port on a target that serves no public API, and names a clash with the derived one', () => {
      const errors = (text: string) => {
        try {
          parseTopology(text, 't.yaml', { env: {} });
        } catch (error) {
          expect(error).toBeInstanceOf(TopologyError);
          return (error as Error).message;
        }
        throw new Error('expected the topology to be rejected');
      };
      expect(errors(topology('http: { port: 3000 }', 'http: { port: 3101, operationsPort: 3201 }'))).toMatch(
        /t\.yaml:10:\d+: target "core" serves no public API, so its http port already serves only \/health, \/ready and \/metrics — remove "operationsPort"/,
      );
      expect(errors(topology('http: { port: 3000 }', 'http: { port: 3101, operationsHost: 0.0.0.0 }'))).toMatch(
        /t\.yaml:10:\d+: target "core" serves no public API, so its http address already serves only \/health, \/ready and \/metrics — remove "operationsHost"/,
      );
      expect(errors(topology('http: { port: 3000 }', 'http: { port: 4000 }'))).toMatch(
        /127\.0\.0\.1:4000 is used twice: targets\.gateway\.http\.port \+ 1000 \(its operations port; set http\.operationsPort to choose another\) \(line 6\) and targets\.core\.http\.port/,
      );
    });
  });
});
