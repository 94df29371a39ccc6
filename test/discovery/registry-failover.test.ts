import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueLocalCertificates } from '@infra/deploy/certs/local-ca';
import { ServiceRegistry } from '@infra/discovery';
import { dropDatabase } from '@infra/persistence';
import { eventually } from '../support/eventually';
import { ServiceProcesses, type StartedService } from '../support/service-processes';
import { parseExposition } from '../support/metrics-scrape';
import { testAdminUrl } from '../support/test-database';
import { contextsBut, flowList } from '../support/contexts';

/**
 * The scenario of issue #8, on real processes and real gRPC (with mutual TLS): a caller (`core`:
 * the public API and every module but inventory) and two instances of `inventory`, found through
 * the registry. Both instances take calls; one is SIGKILLed while calls keep coming; every call
 * succeeds, the dead instance leaves the registry after its TTL, and the one stopped gracefully
 * leaves at once.
 */

const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const HEARTBEAT_MS = 500;
const TTL_MS = 2_000;
const CORE = { grpc: 7601, http: 3601, operations: 3701 };
const INVENTORY_A = { grpc: 7602, http: 3602 };
const INVENTORY_B = { grpc: 7603, http: 3603 };

const TOPOLOGY = `
name: discovery-test
defaults:
  grpc: { host: 127.0.0.1, deadlineMs: 5000 }
  kafka: { brokers: "${BROKERS}", partitions: 2 }
  discovery: { heartbeatMs: ${HEARTBEAT_MS}, ttlMs: ${TTL_MS} }
targets:
  core:
    edge: true
    modules: ${flowList(contextsBut('inventory'))}
    grpc: { port: ${CORE.grpc} }
    http: { port: ${CORE.http}, operationsPort: ${CORE.operations} }
  inventory:
    modules: [inventory]
    grpc: { port: ${INVENTORY_A.grpc}, discovery: registry }
    http: { port: ${INVENTORY_A.http} }
`;

const prefix = `t${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'ficus-discovery-'));
const topologyPath = join(dir, 'topology.yaml');
const services = new ServiceProcesses(topologyPath, {
  FICUS_DATABASE_PREFIX: prefix,
  FICUS_KAFKA_NAMESPACE: prefix,
  KAFKA_BROKERS: BROKERS,
  FICUS_GRPC_TLS_DIR: join(dir, 'certs'),
});
const start = (target: string, env: NodeJS.ProcessEnv, args: string[] = []) => services.start(target, env, args);
const ready = (started: StartedService, httpPort: number) => services.ready(started, httpPort);
let registry: ServiceRegistry;

async function servedBy(): Promise<Record<string, number>> {
  const scrape = parseExposition(await (await fetch(`http://127.0.0.1:${CORE.operations}/metrics`)).text());
  const counts: Record<string, number> = {};
  for (const sample of scrape.find('ficus_balanced_calls_total', { target: 'inventory', outcome: 'ok' }))
    counts[sample.labels.instance] = sample.value;
  return counts;
}

const liveInstances = async (ttlMs = TTL_MS) =>
  (await registry.live(['inventory'], ttlMs)).map((i) => i.instanceId).sort();

beforeAll(async () => {
  writeFileSync(topologyPath, TOPOLOGY);
  await issueLocalCertificates(join(dir, 'certs'), ['core', 'inventory']);
  registry = await ServiceRegistry.open(
    {
      adminUrl: testAdminUrl(),
      database: 'unused',
      contextUrls: {},
      roleSecret: 'ficus-test-role-secret',
      poolSize: 2,
    },
    `${prefix}_registry`,
  );
}, 60_000);

afterAll(async () => {
  await services.kill();
  await registry?.close();
  for (const database of ['core', 'inventory', 'registry']) await dropDatabase(testAdminUrl(), `${prefix}_${database}`);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('balances over two inventory instances, loses one to SIGKILL without a failed call, and forgets it after its TTL', async () => {
  // Two instances of one target: the second on ports of its own, each under its own id.
  const a = start('inventory', {}, ['--instance', 'inventory-a']);
  await ready(a, INVENTORY_A.http); // one at a time: both run inventory's migrations on one database
  const b = start('inventory', {
    FICUS_INSTANCE_ID: 'inventory-b',
    FICUS_GRPC_PORT: String(INVENTORY_B.grpc),
    FICUS_HTTP_PORT: String(INVENTORY_B.http),
  });
  await ready(b, INVENTORY_B.http);
  expect(await liveInstances()).toEqual(['inventory-a', 'inventory-b']);
  const core = start('core', {});
  await ready(core, CORE.operations);

  const products = (await (await fetch(`http://127.0.0.1:${CORE.http}/catalog/products?pageSize=5`)).json()) as {
    items: Array<{ sku: string }>;
  };
  const skus = products.items.map((p) => p.sku);
  expect(skus.length).toBeGreaterThan(0);
  const call = async (i: number) => {
    const answer = await fetch(`http://127.0.0.1:${CORE.http}/inventory/stock/${skus[i % skus.length]}`);
    const body = (await answer.json()) as { sku?: string; available?: number };
    return { status: answer.status, body, at: Date.now() };
  };

  // Before the kill: every call answers, and both instances served some.
  for (let i = 0; i < 20; i++) {
    const result = await call(i);
    expect(result).toMatchObject({ status: 200, body: { sku: skus[i % skus.length] } });
  }
  const before = await servedBy();
  expect(before['inventory-a']).toBeGreaterThan(0);
  expect(before['inventory-b']).toBeGreaterThan(0);
  const metrics = () => fetch(`http://127.0.0.1:${CORE.operations}/metrics`).then((answer) => answer.text());
  expect(await (await fetch(`http://127.0.0.1:${CORE.operations}/ready`)).text()).toMatch(/peer:inventory/);
  expect(await metrics()).toMatch(/ficus_peer_instances\{target="inventory",state="serving"\} 2/);

  // Calls keep coming, four at a time, while instance b is killed.
  const results: Array<{ status: number; at: number }> = [];
  let running = true;
  let n = 0;
  const workers = Array.from({ length: 4 }, async () => {
    while (running) {
      const result = await call(n++).catch((error: unknown) => ({
        status: -1,
        body: { error: String(error) },
        at: Date.now(),
      }));
      results.push(result);
    }
  });
  await eventually(() => results.length, { until: (count) => count >= 40, timeoutMs: 30_000 });
  expect(await liveInstances()).toContain('inventory-b');
  b.child.kill('SIGKILL');
  await b.exited;
  const killedAt = Date.now();

  // b never said goodbye: it leaves the registry when its entry is older than the TTL.
  await eventually(liveInstances, {
    until: (ids) => ids.join() === 'inventory-a',
    timeoutMs: TTL_MS + 10_000,
    intervalMs: 50,
    what: 'b expires',
  });
  const goneAfterMs = Date.now() - killedAt;
  expect(goneAfterMs).toBeLessThanOrEqual(TTL_MS + 2_000);
  const goneAt = Date.now();
  await eventually(() => results.filter((r) => r.at > goneAt).length, {
    until: (count) => count >= 40,
    timeoutMs: 30_000,
  });
  running = false;
  await Promise.all(workers);

  const afterKill = results.filter((r) => r.at >= killedAt);
  expect(afterKill.length).toBeGreaterThanOrEqual(40);
  expect(results.filter((r) => r.status !== 200)).toEqual([]); // every call, including those in flight at the kill
  const after = await servedBy();
  expect(after['inventory-a']).toBeGreaterThanOrEqual(before['inventory-a'] + afterKill.length);
  await eventually(metrics, {
    until: (text) => /ficus_peer_instances\{target="inventory",state="serving"\} 1\n/.test(text),
    timeoutMs: 10_000,
  });

  // A graceful stop leaves at once: under a TTL of a minute, only a deleted entry is missing.
  expect(await liveInstances(60_000)).toEqual(['inventory-a', 'inventory-b']);
  a.child.kill('SIGTERM');
  await a.exited;
  expect(await liveInstances(60_000)).toEqual(['inventory-b']);
  expect(a.launched.output).not.toMatch(/heartbeat failed/);
}, 300_000);
