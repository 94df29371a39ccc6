import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { Client } from 'pg';
import { acceptsConnections } from '@infra/deploy/local/tcp-port';
import { startBenchDatabase } from './bench-database';
import { benchKafka, benchKafkaBrokers, dropNamespace, releaseBenchBroker } from './bench-kafka';
import { post, signUp } from './bench-shop';
import { flameGraphSvg, sharesByKind, type CpuProfile } from './flame-graph';
import { line } from './measure';
import { childrenOf, seconds, ticksOf } from './process-cpu';

/**
 * `npm run profile -- <monolith|split> [--root <checkout>] [--label <name>] [--orders <n>] [--keep <dir>]`:
 * CPU profiles of every ficus process of a topology while it takes `n` orders (16 posting at once
 * through POST /orders) and ends their sagas, taken with V8's profiler over that window only
 * (after a warm-up), drawn as flame
 * graphs (docs/performance/flames/<label>-<topology>-<process>.svg) and summed up by where the
 * code lives (bench/results/profile-<label>-<topology>.json).
 *
 * `--root` profiles another checkout of ficus (an earlier commit, for the "before" of
 * docs/performance.md): its processes are started from there, with this checkout's preload.
 * `--keep` keeps the V8 profiles themselves, for a closer look than the flame graphs give.
 */
const SKU = 'FICUS-PUMILA';
const PRELOAD = resolve(__dirname, 'profile-preload.cjs');
const OUT = resolve(__dirname, '..', 'docs', 'performance', 'flames');

async function main(): Promise<void> {
  const program = new Command('profile')
    .argument('<topology>', 'monolith or split')
    .option('--root <dir>', 'the ficus checkout to run', resolve(__dirname, '..'))
    .option('--label <name>', 'names the flame graphs and the summary', 'now')
    .option('--orders <n>', 'orders posted (16 at a time) and awaited in the profiled window', '300')
    .option('--keep <dir>', 'also keep the V8 profiles there (.cpuprofile: Chrome DevTools, speedscope)')
    .parse();
  const [topology] = program.args as ['monolith' | 'split'];
  if (topology !== 'monolith' && topology !== 'split') throw new Error('profile what: monolith or split?');
  const { root, label, keep } = program.opts<{ root: string; label: string; keep?: string }>();
  if (keep) mkdirSync(keep, { recursive: true });
  const orders = Number(program.opts<{ orders: string }>().orders);
  const profiles = mkdtempSync(join(tmpdir(), 'ficus-profiles-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'ficus-profile-data-'));
  const database = await startBenchDatabase('profile', 'FICUS_BENCH_PROFILE_PG_PORT');
  const namespace = `prof${randomBytes(4).toString('hex')}`;
  const kafka = topology === 'split' ? await benchKafka(`ficus-profile-${namespace}`) : undefined;
  let shop: ChildProcess | undefined;
  try {
    const port = topology === 'split' ? 3000 : 3090;
    if (await acceptsConnections('127.0.0.1', port))
      throw new Error(`port ${port} is taken: stop what runs there (npm start, npm run start:split) first`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.urlOf('postgres'),
      FICUS_DATA_DIR: dataDir,
      FICUS_DB_ROLE_SECRET: 'ficus-profile-role-secret',
      FICUS_DATABASE_PREFIX: namespace,
      FICUS_KAFKA_NAMESPACE: namespace,
      FICUS_RATE_LIMIT: 'off',
      LOG_LEVEL: 'warn',
      LOG_HTTP_REQUESTS: 'false',
      PORT: String(port),
      NODE_OPTIONS: `--require ${PRELOAD}`,
      FICUS_PROFILE_DIR: profiles,
      ...(kafka ? { KAFKA_BROKERS: benchKafkaBrokers().join(',') } : {}),
    };
    const entry =
      topology === 'split'
        ? ['infra/deploy/local/start-topology.ts', '--topology', 'split']
        : ['apps/monolith/src/main.ts'];
    shop = spawn(process.execPath, ['-r', '@swc-node/register', ...entry], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    shop.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    shop.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    const base = `http://127.0.0.1:${port}`;
    // /ready is on the operations port: http.port + 1000 for split's gateway and for the monolith's PORT alike.
    await ready(`http://127.0.0.1:${port + 1000}`, shop, () => output);
    const { token } = await signUp(base);
    await plentyOf(database.urlOf(topology === 'split' ? `${namespace}_inventory` : 'postgres'));

    const processes = topology === 'split' ? servicesUnder(shop.pid!) : [shop.pid!];
    const orderingUrl = database.urlOf(topology === 'split' ? `${namespace}_ordering` : 'postgres');
    // warm up (JIT, pools, consumer groups), then the window: `orders` posted, every saga ended
    await placeAndAwait(base, token, Math.ceil(orders / 5), orderingUrl);
    const before = processes.map((pid) => ticksOf(pid)!.own);
    processes.forEach((pid) => process.kill(pid, 'SIGUSR2'));
    const started = performance.now();
    await placeAndAwait(base, token, orders, orderingUrl);
    const windowSeconds = Math.round((performance.now() - started) / 100) / 10;
    processes.forEach((pid) => process.kill(pid, 'SIGUSR2'));
    const used = processes.map((pid, i) => ticksOf(pid)!.own - before[i]);
    const placed = orders;
    await until(
      () => readdirSync(profiles).filter((file) => file.endsWith('.cpuprofile')).length >= processes.length,
      30_000,
    );

    mkdirSync(OUT, { recursive: true });
    const summary: Record<string, unknown> = {};
    for (const [i, file] of readdirSync(profiles)
      .filter((name) => name.endsWith('.cpuprofile'))
      .sort()
      .entries()) {
      const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as CpuProfile;
      const target = file.replace(/-\d+\.cpuprofile$/, '');
      if (keep) copyFileSync(join(profiles, file), join(keep, `${label}-${topology}-${target}.cpuprofile`));
      const pid = Number(/-(\d+)\.cpuprofile$/.exec(file)![1]);
      const cpuMsPerOrder =
        Math.round(((seconds(used[processes.indexOf(pid)] ?? used[i]) * 1_000) / placed) * 100) / 100;
      const svg = join(OUT, `${label}-${topology}-${target}.svg`);
      writeFileSync(
        svg,
        await flameGraphSvg(profile, `${label}: ${topology}, process ${target}, ${cpuMsPerOrder} ms CPU per order`),
      );
      const shares = sharesByKind(profile).map(({ kind, share }) => ({
        kind,
        percent: Math.round(share * 1_000) / 10,
      }));
      summary[target] = { cpuMsPerOrder, busyShares: shares };
      line(
        `${target}: ${cpuMsPerOrder} ms CPU per order; ${shares
          .slice(0, 5)
          .map((s) => `${s.kind} ${s.percent} %`)
          .join(', ')} → ${svg}`,
      );
    }
    const result = join(__dirname, 'results', `profile-${label}-${topology}.json`);
    writeFileSync(
      result,
      `${JSON.stringify({ label, topology, root: root === resolve(__dirname, '..') ? '.' : root, windowSeconds, ordersConfirmed: placed, processes: summary }, null, 2)}\n`,
    );
    line(`${placed} orders posted and CONFIRMED in ${windowSeconds} s → ${result}`);
  } finally {
    if (shop && shop.exitCode === null) {
      shop.kill('SIGINT');
      await until(() => shop!.exitCode !== null, 30_000).catch(() => shop!.kill('SIGKILL'));
    }
    if (kafka) await dropNamespace(kafka, namespace).catch(() => undefined);
    releaseBenchBroker();
    await database.stop();
    rmSync(profiles, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Posts `orders` orders, 16 at a time, and waits until every one of their sagas has ended CONFIRMED. */
async function placeAndAwait(base: string, token: string, orders: number, orderingUrl: string): Promise<void> {
  const before = await confirmed(orderingUrl);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < orders) {
        next += 1;
        await post(base, '/orders', { items: [{ sku: SKU, quantity: 1 }], paymentToken: 'tok_visa' }, token);
      }
    }),
  );
  const deadline = Date.now() + 300_000;
  while ((await confirmed(orderingUrl)) - before < orders) {
    if (Date.now() > deadline) throw new Error(`profile: ${orders} orders did not all confirm in 5 minutes`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
}

async function ready(base: string, shop: ChildProcess, output: () => string): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < 180_000) {
    if (shop.exitCode !== null) throw new Error(`the shop exited before it was ready:\n${output()}`);
    const answer = await fetch(`${base}/ready`).catch(() => undefined);
    if (answer?.status === 200) return;
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
  }
  throw new Error(`the shop was not ready in 3 minutes:\n${output()}`);
}

/** The service processes a topology launcher started (its children running apps/service). */
function servicesUnder(launcher: number): number[] {
  return childrenOf(launcher).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('apps/service');
    } catch {
      return false;
    }
  });
}

/** Orders CONFIRMED so far (superuser, ordering's event store). */
async function confirmed(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ordering.order_events WHERE type = 'ordering.order-confirmed'",
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

/** So much of SKU that the window never runs out, straight in inventory's table (superuser). */
async function plentyOf(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('UPDATE inventory.stock SET on_hand = 100000000 + reserved WHERE sku = $1', [SKU]);
  } finally {
    await client.end();
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('profile: timed out waiting');
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
