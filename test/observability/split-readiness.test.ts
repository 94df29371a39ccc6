import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchTopology, type LaunchedTopology } from '@infra/deploy/local/topology-launcher';
import { dropDatabase, withDatabase } from '@infra/persistence';
import { eventually } from '../support/eventually';
import { FaultProxy } from '../support/fault-proxy';
import { scrapeMetrics } from '../support/metrics-scrape';
import { freeLoopbackPorts } from '@infra/deploy/local/tcp-port';
import { testAdminUrl } from '../support/test-database';
import { KAFKA_BROKERS } from '../support/topology-shop';
import { listenersOn } from '../support/listeners';
import { contextsBut, flowList } from '../support/contexts';

/**
 * Readiness of split processes, for real: two processes (an edge with six contexts, and
 * inventory) whose configured broker is a fault proxy in front of the shared broker. Cutting the
 * proxy makes both unready and healing it makes them ready again, without touching the broker
 * other tests use: the probe connects afresh to the configured address each time, while the
 * processes' running Kafka clients talk to the address the broker advertises and go on working.
 */
describe('readiness of split processes', () => {
  const prefix = `r${randomBytes(4).toString('hex')}`;
  const folder = mkdtempSync(join(tmpdir(), 'ficus-readiness-'));
  let proxy: FaultProxy;
  let launched: LaunchedTopology;
  let urls: { core: string; inventory: string };
  let grpcPorts: number[];

  beforeAll(async () => {
    const [host, port] = KAFKA_BROKERS[0].split(':');
    proxy = await FaultProxy.start({ host, port: Number(port) });
    const [coreGrpc, coreHttp, coreOperations, inventoryGrpc, inventoryHttp] = await freeLoopbackPorts(5);
    grpcPorts = [coreGrpc, inventoryGrpc];
    const topologyPath = join(folder, 'readiness.yaml');
    writeFileSync(
      topologyPath,
      `name: readiness
defaults:
  grpc: { host: 127.0.0.1, deadlineMs: 5000 }
  kafka: { brokers: "\${KAFKA_BROKERS}", partitions: 2 }
targets:
  core:
    edge: true
    modules: ${flowList(contextsBut('inventory'))}
    grpc: { port: ${coreGrpc} }
    http: { port: ${coreHttp}, operationsPort: ${coreOperations} }
    database: { name: "\${FICUS_DATABASE_PREFIX}_core" }
  inventory:
    modules: [inventory]
    grpc: { port: ${inventoryGrpc} }
    http: { port: ${inventoryHttp} }
    database: { name: "\${FICUS_DATABASE_PREFIX}_inventory" }
`,
    );
    launched = await launchTopology({
      topologyPath,
      env: {
        ...process.env,
        DATABASE_URL: withDatabase(testAdminUrl(), 'postgres'),
        FICUS_DB_ROLE_SECRET: 'ficus-test-role-secret',
        FICUS_DATABASE_PREFIX: prefix,
        FICUS_KAFKA_NAMESPACE: prefix,
        KAFKA_BROKERS: `127.0.0.1:${proxy.port}`,
        LOG_LEVEL: 'warn',
        LOG_HTTP_REQUESTS: 'false',
        FICUS_GRPC_PLAINTEXT: 'loopback',
      },
    });
    urls = { core: `http://127.0.0.1:${coreOperations}`, inventory: `http://127.0.0.1:${inventoryHttp}` };
  }, 120_000);

  afterAll(async () => {
    await launched?.stop();
    await proxy?.close();
    for (const target of ['core', 'inventory'])
      await dropDatabase(testAdminUrl(), `${prefix}_${target}`).catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
  });

  const ready = async (url: string) => {
    const answer = await fetch(`${url}/ready`);
    return {
      status: answer.status,
      body: (await answer.json()) as {
        error?: Record<string, { status: string }>;
        details?: Record<string, { status: string; gatesReadiness?: boolean }>;
      },
    };
  };

  it('serves gRPC on loopback only: plain text was asked for by name (FICUS_GRPC_PLAINTEXT=loopback)', () => {
    for (const port of grpcPorts)
      expect({ port, listeners: listenersOn(port) }).toEqual({ port, listeners: ['127.0.0.1'] });
  });

  it('reports the broker, its Kafka consumers and the peers it calls, each as an indicator', async () => {
    const core = await ready(urls.core);
    expect(core.status).toBe(200);
    expect(core.body.details).toMatchObject({
      kafka: { status: 'up', gatesReadiness: true },
      'peer:inventory': { status: 'up', gatesReadiness: false },
      ordering: { status: 'up' },
    });
    const inventory = await ready(urls.inventory);
    expect(inventory.status).toBe(200);
    // it calls no one; it consumes ordering's events, and its consumer is an indicator of its own
    expect(Object.keys(inventory.body.details ?? {}).sort()).toEqual([
      'inventory',
      'kafka',
      'kafka-consumer:inventory',
    ]);
    expect(inventory.body.details?.['kafka-consumer:inventory']).toMatchObject({ status: 'up', gatesReadiness: true });
  });

  it('shows the metrics that exist only in split mode, with values', async () => {
    const lag = await eventually(
      async () => (await scrapeMetrics(urls.inventory)).find('ficus_consumer_lag', { group: `${prefix}.inventory` }),
      {
        until: (samples) => samples.length > 0,
        what: "inventory's consumer lag",
      },
    );
    expect(lag.map((s) => s.labels.topic).sort()).toEqual([`${prefix}.ordering.events`, `${prefix}.payments.events`]);
    lag.forEach((s) => expect(s.value).toBeGreaterThanOrEqual(0));

    const core = await scrapeMetrics(urls.core);
    expect(core.find('ficus_bulkhead_active', { target: 'inventory' }).map((s) => s.value)).toEqual([0]);
    expect(core.find('ficus_bulkhead_queued', { target: 'inventory' }).map((s) => s.value)).toEqual([0]);
    expect(core.find('ficus_circuit_breaker_state', { target: 'inventory' }).map((s) => s.value)).toEqual([0]);
  });

  it('goes unready when the broker cannot be reached at its configured address, and ready when it can again', async () => {
    proxy.set({ resetNewConnections: true });
    for (const url of [urls.core, urls.inventory]) {
      const down = await eventually(() => ready(url), { until: (r) => r.status === 503, what: `${url} unready` });
      expect(down.body).toMatchObject({
        code: 'not-ready',
        detail: 'not ready: kafka',
        error: { kafka: { status: 'down' } },
      });
    }

    proxy.heal();
    for (const url of [urls.core, urls.inventory]) {
      await eventually(() => ready(url), { until: (r) => r.status === 200, what: `${url} ready again` });
    }
  });

  it('stays ready when a peer is down, and reports the peer down', async () => {
    await launched.kill('inventory');
    const core = await eventually(() => ready(urls.core), {
      until: (r) => r.body.details?.['peer:inventory']?.status === 'down',
      what: 'inventory reported down',
    });
    expect(core.status).toBe(200);
    expect(core.body.error).toMatchObject({ 'peer:inventory': { status: 'down' } });
  });
});
