import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueLocalCertificates } from '@infra/deploy/certs/local-ca';
import { withDatabase } from '@infra/persistence';
import { parseTopology } from '@infra/topology';
import { ficus } from '../flags/flags-cli';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { extractedShareDuring } from '../support/routed-calls';
import { ServiceProcesses, type StartedService } from '../support/service-processes';
import { asAdmin, freshDatabase } from '../support/test-database';
import { ALL_CONTEXTS, flowList } from '../support/contexts';

/**
 * The strangler fig, step by step, on a running shop under a bounded load: verify → plan →
 * extract inventory → shadow → shift 10 → 50 → 100 → retire. At every step no order is lost,
 * failed by the move or charged twice, and the share of inventory calls the extracted service
 * took, measured from the owner's metrics, is within ±3 points of the setting.
 */
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const MONOLITH = { grpc: 7631, http: 3631, operations: 3731 };
const INVENTORY = { grpc: 7632, http: 3632 };
const SKU = 'FICUS-LYRATA';

const dir = mkdtempSync(join(tmpdir(), 'ficus-walkthrough-'));
const startTopology = join(dir, 'monolith.yaml');
const extractingTopology = join(dir, 'monolith-extracting-inventory.yaml');
const prefix = `w${randomBytes(4).toString('hex')}`;
let database: Awaited<ReturnType<typeof freshDatabase>>;
let services: ServiceProcesses;
let env: NodeJS.ProcessEnv;
let shop: ShopClient;
const placed: Array<{ id: string; by: ShopClient }> = [];

const run = (argv: string[]) => ficus(argv, env);
/** Starts a target and waits for its /ready on `operationsPort` (the edge's own; another target's HTTP port). */
const start = async (target: string, topology: string, operationsPort: number): Promise<StartedService> => {
  const started = services.start(target, {}, ['--topology', topology]);
  await services.ready(started, operationsPort);
  return started;
};
const stop = async (started: StartedService) => {
  started.child.kill('SIGTERM');
  await started.exited;
};

/** A bounded load: `reads` stock reads, 8 at a time, and a few orders; every read must answer 200. */
async function load(reads: number, orders = 4): Promise<void> {
  const customers = await Promise.all(Array.from({ length: 2 }, () => shop.signUp()));
  const ordering = Promise.all(
    Array.from({ length: orders }, async (_, i) => {
      const answer = await customers[i % 2].placeOrder([{ sku: SKU, quantity: 1 }]);
      expect(answer.status).toBe(202);
      placed.push({ id: answer.body.orderId, by: customers[i % 2] });
    }),
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next++ < reads) {
        const answer = await fetch(`${shop.baseUrl}/inventory/stock/${SKU}`);
        expect(answer.status).toBe(200);
      }
    }),
  );
  await ordering;
}

/** The share of inventory calls the extracted copy took during one phase of load, in percent. */
function measuredShare(reads: number): Promise<number> {
  return extractedShareDuring(`http://127.0.0.1:${MONOLITH.operations}`, () => load(reads));
}

/** Every order placed so far ended CONFIRMED and was charged exactly once. */
async function noOrderLostFailedOrChargedTwice(): Promise<void> {
  for (const { id, by } of placed) {
    const order = await by.finalOrder(id, 60_000);
    expect({ id, status: order.status }).toEqual({ id, status: 'CONFIRMED' });
  }
  const charges = await asAdmin<{ key: string; n: number }>(
    database.config,
    'SELECT idempotency_key AS key, count(*)::int AS n FROM payments.fake_provider_charges WHERE idempotency_key = ANY($1) GROUP BY 1',
    [placed.map(({ id }) => `order:${id}`)],
  );
  expect(charges).toHaveLength(placed.length);
  expect(charges.filter((c) => c.n !== 1)).toEqual([]);
}

beforeAll(async () => {
  database = await freshDatabase('walkthrough');
  await issueLocalCertificates(join(dir, 'certs'), ['monolith', 'inventory']);
  writeFileSync(
    startTopology,
    `# The shop as one process, as a team starts it.
name: monolith
defaults:
  grpc: { host: 127.0.0.1 }
targets:
  monolith:
    edge: true
    modules: ${flowList(ALL_CONTEXTS)}
    grpc: { port: ${MONOLITH.grpc} }
    http: { port: ${MONOLITH.http}, operationsPort: ${MONOLITH.operations} }
`,
  );
  env = {
    ...process.env,
    DATABASE_URL: withDatabase(database.config.adminUrl, database.config.database),
    FICUS_DB_ROLE_SECRET: 'ficus-test-role-secret',
    FICUS_KAFKA_NAMESPACE: prefix,
    KAFKA_BROKERS: BROKERS,
    FICUS_GRPC_TLS_DIR: join(dir, 'certs'),
    FICUS_ACTOR: 'walkthrough',
  };
  services = new ServiceProcesses(startTopology, env);
  shop = new ShopClient(`http://127.0.0.1:${MONOLITH.http}`);
}, 60_000);

afterAll(async () => {
  await services?.kill();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('moves inventory out of the monolith step by step, losing, failing and double-charging no order', async () => {
  // The monolith, running and under load.
  let monolith = await start('monolith', startTopology, MONOLITH.operations);
  await asAdmin(database.config, 'UPDATE inventory.stock SET available = 100000000 WHERE sku = $1', [SKU]);
  await load(100);

  // 1. verify and 2. plan: the code keeps its boundaries; plan names a first step.
  expect(await run(['verify', '--json'])).toMatchObject({ code: 0 });
  const plan = await run(['plan', '--topology', startTopology, '--json']);
  expect(plan).toMatchObject({ code: 0 });
  expect(plan.out).toContain('inventory');

  // 3. extract: a topology with an inventory target beside the monolith, which still hosts it.
  const extracted = await run([
    'extract',
    'inventory',
    '--topology',
    startTopology,
    '--out',
    extractingTopology,
    '--deploy-dir',
    join(dir, 'deploy'),
    '--grpc-port',
    String(INVENTORY.grpc),
    '--http-port',
    String(INVENTORY.http),
    '--json',
  ]);
  expect(extracted).toMatchObject({ code: 0, err: '' });
  const extracting = parseTopology(readFileSync(extractingTopology, 'utf8'), extractingTopology, { env });
  expect(extracting.target('inventory')).toMatchObject({ extractedFrom: 'monolith', modules: ['inventory'] });
  expect(extracting.targetOf('inventory').name).toBe('monolith');

  // The owner restarts with the new topology, the extracted service starts on the same data.
  await stop(monolith);
  monolith = await start('monolith', extractingTopology, MONOLITH.operations);
  let inventory = await start('inventory', extractingTopology, INVENTORY.http);
  await load(100);
  const statusArgs = [
    '--topology',
    extractingTopology,
    '--shadow-window',
    '0',
    '--min-shadowed',
    '50',
    '--min-shifted',
    '50',
    '--retire-after',
    '0',
    '--json',
  ];
  const next = async () =>
    JSON.parse((await run(['status', ...statusArgs])).out).next[0] as { safe: boolean; step: string };
  expect(await next()).toMatchObject({ safe: true, step: 'ficus shadow inventory on' });

  // 4. shadow: reads served in-process are also asked of the extracted service and compared.
  expect(await run(['shadow', 'inventory', 'on', '--topology', extractingTopology])).toMatchObject({ code: 0 });
  const shadowed = await eventually(
    async () => {
      await load(50, 2);
      const [report] = JSON.parse(
        (await run(['shadow', 'report', 'inventory', '--topology', extractingTopology, '--json'])).out,
      ) as Array<{ matches: number; mismatches: number; errors: number }>;
      return report;
    },
    { until: (report) => report.matches >= 50, timeoutMs: 60_000, what: 'shadowed reads compared' },
  );
  // The extracted copy answers as the in-process one (reads racing an order count as inconclusive).
  expect(shadowed).toMatchObject({ mismatches: 0, errors: 0 });
  expect(await next()).toMatchObject({ safe: true, step: 'ficus shift inventory 10' });

  // 5. shift 10 → 50 → 100, each share measured from the owner's metrics.
  for (const percent of [10, 50, 100]) {
    expect(await run(['shift', 'inventory', String(percent), '--topology', extractingTopology])).toMatchObject({
      code: 0,
    });
    // The owner applies the change at once (LISTEN/NOTIFY); wait until it routes by it.
    await eventually(async () => measuredShare(40), {
      until: (share) => Math.abs(share - percent) <= 25,
      timeoutMs: 30_000,
      what: `shift ${percent} live`,
    });
    const share = await measuredShare(1_200);
    expect({
      percent,
      share: Math.round(share * 10) / 10,
      within3Points: Math.abs(share - percent) <= 3,
    }).toMatchObject({ percent, within3Points: true });
    await noOrderLostFailedOrChargedTwice();
    expect((await next()).safe).toBe(true);
  }
  expect(await next()).toMatchObject({ safe: true, step: 'ficus retire inventory' });

  // 6. retire: the monolith no longer hosts inventory; the extracted target owns it.
  expect(await run(['retire', 'inventory', '--topology', extractingTopology, '--after', '0'])).toMatchObject({
    code: 0,
  });
  const retired = parseTopology(readFileSync(extractingTopology, 'utf8'), extractingTopology, { env });
  expect(retired.target('monolith').modules).not.toContain('inventory');
  expect(retired.targetOf('inventory').name).toBe('inventory');
  await stop(inventory);
  await stop(monolith);
  monolith = await start('monolith', extractingTopology, MONOLITH.operations);
  inventory = await start('inventory', extractingTopology, INVENTORY.http);
  await load(100, 6);
  await noOrderLostFailedOrChargedTwice();
  expect(placed.length).toBeGreaterThanOrEqual(20);
}, 600_000);
