import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueLocalCertificates } from '@infra/deploy/certs/local-ca';
import { dropDatabase, withDatabase } from '@infra/persistence';
import { eventually } from '../support/eventually';
import { ficus } from '../flags/flags-cli';
import { parseExposition } from '../support/metrics-scrape';
import { ServiceProcesses } from '../support/service-processes';
import { testAdminUrl } from '../support/test-database';
import { contextsBut, flowList } from '../support/contexts';

/**
 * A canary on real processes: inventory runs twice — its stable version and a second version
 * (`--canary`) on the ports its canary: names, on the same database — and the edge sends the
 * canary its configured share of inventory calls, each version serving what it was sent.
 */
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const CORE = { grpc: 7611, http: 3611, operations: 3711 };
const STABLE = { grpc: 7612, http: 3612 };
const CANARY = { grpc: 7613, http: 3613 };
const PERCENT = 25;

const prefix = `t${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'ficus-canary-'));
const topologyPath = join(dir, 'topology.yaml');
const services = new ServiceProcesses(topologyPath, {
  FICUS_DATABASE_PREFIX: prefix,
  FICUS_KAFKA_NAMESPACE: prefix,
  KAFKA_BROKERS: BROKERS,
  FICUS_GRPC_TLS_DIR: join(dir, 'certs'),
});

const servedCalls = async (httpPort: number) =>
  parseExposition(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text())
    .find('ficus_contract_calls_served_total', {
      contract: 'inventory.v1.InventoryService',
      method: 'checkStock',
      outcome: 'ok',
    })
    .reduce((sum, s) => sum + s.value, 0);

beforeAll(async () => {
  writeFileSync(
    topologyPath,
    `
name: canary-test
defaults:
  grpc: { host: 127.0.0.1, deadlineMs: 5000 }
  kafka: { brokers: "${BROKERS}", partitions: 2 }
targets:
  core:
    edge: true
    modules: ${flowList(contextsBut('inventory'))}
    grpc: { port: ${CORE.grpc} }
    http: { port: ${CORE.http}, operationsPort: ${CORE.operations} }
    database: { name: ${prefix}_core }
  inventory:
    modules: [inventory]
    grpc: { port: ${STABLE.grpc} }
    http: { port: ${STABLE.http} }
    database: { name: ${prefix}_inventory }
    canary: { grpc: { port: ${CANARY.grpc} }, http: { port: ${CANARY.http} }, percent: ${PERCENT}, sticky: caller }
`,
  );
  await issueLocalCertificates(join(dir, 'certs'), ['core', 'inventory']);
}, 60_000);

afterAll(async () => {
  await services.kill();
  for (const database of ['core', 'inventory']) await dropDatabase(testAdminUrl(), `${prefix}_${database}`);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('sends the canary its share of the calls, and each version serves what it was sent', async () => {
  const stable = services.start('inventory');
  await services.ready(stable, STABLE.http); // one at a time: both run inventory's migrations on one database
  const canary = services.start('inventory', {}, ['--canary']);
  await services.ready(canary, CANARY.http);
  const core = services.start('core');
  await services.ready(core, CORE.operations);

  const products = (await (await fetch(`http://127.0.0.1:${CORE.http}/catalog/products?pageSize=5`)).json()) as {
    items: Array<{ sku: string }>;
  };
  const sku = products.items[0].sku;
  const calls = 400;
  for (let i = 0; i < calls; i += 8) {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => fetch(`http://127.0.0.1:${CORE.http}/inventory/stock/${sku}`)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
  }

  const routed = Object.fromEntries(
    parseExposition(await (await fetch(`http://127.0.0.1:${CORE.operations}/metrics`)).text())
      .find('ficus_routed_calls_total', { target: 'inventory', outcome: 'ok' })
      .map((s) => [s.labels.version, s.value]),
  );
  expect(routed.stable + routed.canary).toBe(calls);
  const share = (routed.canary / calls) * 100;
  expect(share).toBeGreaterThan(PERCENT - 10); // 25 % of 400 has a standard deviation of ~2.2 points
  expect(share).toBeLessThan(PERCENT + 10);
  // What the edge counted is what each version served.
  expect(await servedCalls(CANARY.http)).toBe(routed.canary);
  expect(await servedCalls(STABLE.http)).toBe(routed.stable);

  // Blue/green at run time, without a restart: the route's flag in the caller's deployment.
  const set = await ficus([
    'flags',
    'set',
    'route.inventory.canary',
    'on',
    '--database-url',
    withDatabase(testAdminUrl(), `${prefix}_core`),
    '--reason',
    'blue/green',
  ]);
  expect(set).toMatchObject({ code: 0, err: '' });
  const canaryBefore = await servedCalls(CANARY.http);
  // Batches of calls until one reaches the stable version no more: the flag has arrived.
  await eventually(
    async () => {
      const stableBefore = await servedCalls(STABLE.http);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${CORE.http}/inventory/stock/${sku}`)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      return (await servedCalls(STABLE.http)) - stableBefore;
    },
    { until: (toStable) => toStable === 0, what: 'every call routed to the second version' },
  );
  // Once the flag is seen, every call goes to the second version.
  const stableSettled = await servedCalls(STABLE.http);
  const canarySettled = await servedCalls(CANARY.http);
  for (let i = 0; i < 40; i++)
    expect((await fetch(`http://127.0.0.1:${CORE.http}/inventory/stock/${sku}`)).status).toBe(200);
  expect(await servedCalls(STABLE.http)).toBe(stableSettled);
  expect(await servedCalls(CANARY.http)).toBe(canarySettled + 40);
  expect(canarySettled).toBeGreaterThan(canaryBefore);
}, 240_000);
