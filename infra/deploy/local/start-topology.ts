import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { exitOnSignalUntilStarted } from '@infra/host/exit-on-signal';
import { given } from '@infra/config';
import { startEmbeddedDatabase, DEFAULT_EMBEDDED_PORT, withDatabase } from '@infra/persistence';
import { loadTopology, shippedTopologyPath } from '@infra/topology';
import { issueLocalCertificates } from '../certs/local-ca';
import { launchTopology } from './topology-launcher';

/**
 * `npm run start:split` (or `-- --topology hybrid`): every process of a topology on this machine.
 * Starts what they need first (the embedded PostgreSQL unless DATABASE_URL is set, the local
 * Kafka broker unless KAFKA_BROKERS is set), waits until every process is ready, prints where
 * each listens; Ctrl-C stops them all.
 */
const ROOT = resolve(__dirname, '../../..');
const program = new Command('start-topology')
  .description('run every deploy target of a ficus topology as its own process')
  .option('--topology <name|file>', 'monolith, split, hybrid or a YAML file', 'split')
  .parse();
const { topology: chosen } = program.opts<{ topology: string }>();
const topologyPath = existsSync(chosen)
  ? resolve(chosen)
  : shippedTopologyPath(chosen as Parameters<typeof shippedTopologyPath>[0]);

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const startedUp = exitOnSignalUntilStarted();
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: given(process.env.LOG_LEVEL) ?? 'warn' };
  let stopDatabase = async () => undefined as void;
  let usedBy = (_pid: number) => undefined as void;
  if (!given(env.DATABASE_URL)) {
    const dataDir = resolve(given(env.FICUS_DATA_DIR) ?? '.data', 'postgres');
    const port = Number(given(env.FICUS_EMBEDDED_PG_PORT) ?? DEFAULT_EMBEDDED_PORT);
    const database = await startEmbeddedDatabase({ dataDir, port, portSetting: 'FICUS_EMBEDDED_PG_PORT' });
    env.DATABASE_URL = withDatabase(database.adminUrl, 'postgres');
    stopDatabase = database.stop;
    // Its services use the server too: it is not stopped under them if this launcher is killed.
    usedBy = database.alsoUsedBy;
    say(`PostgreSQL (embedded)  127.0.0.1:${port}, data in ${dataDir}`);
  }
  if (!given(env.KAFKA_BROKERS)) {
    const broker = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', 'infra/deploy/kafka/kafka-broker.ts', 'start'],
      {
        cwd: ROOT,
        stdio: 'inherit',
        env,
      },
    );
    if (broker.status !== 0) throw new Error('the local Kafka broker did not start (see above)');
  }

  // Mutual TLS between the processes, with the local CA (`npm run certs`), unless plain text on
  // loopback is asked for by name (FICUS_GRPC_PLAINTEXT=loopback).
  if (env.FICUS_GRPC_PLAINTEXT === 'loopback' && !env.FICUS_GRPC_TLS_DIR) {
    delete env.FICUS_GRPC_TLS_DIR;
    say('gRPC in plain text   on 127.0.0.1 only (FICUS_GRPC_PLAINTEXT=loopback)');
  } else if (!env.FICUS_GRPC_TLS_DIR) {
    const dir = resolve(given(env.FICUS_DATA_DIR) ?? '.data', 'certs');
    const topology = loadTopology(topologyPath, { env });
    if (!topology.targets.every((t) => existsSync(resolve(dir, `${t.name}.crt`)))) {
      const hosts = ['localhost', '127.0.0.1', ...topology.targets.flatMap((t) => (t.grpc ? [t.grpc.host] : []))];
      await issueLocalCertificates(
        dir,
        topology.targets.map((t) => t.name),
        [...new Set(hosts)],
      );
    }
    env.FICUS_GRPC_TLS_DIR = dir;
    say(`gRPC mutual TLS       certificates in ${dir}`);
  }

  say(`starting ${topologyPath} …`);
  const launched = await launchTopology({
    topologyPath,
    env,
    onOutput: (target, chunk) => process.stdout.write(chunk.replace(/^(?=.)/gm, `[${target}] `)),
    onSpawn: (child) => child.pid !== undefined && usedBy(child.pid),
  });
  say('');
  for (const target of launched.topology.targets) {
    const operations = target.edge ? ` (/ready, /metrics on :${target.operations.port})` : '';
    const what = target.edge
      ? `public API${target.modules.length ? ` + ${target.modules.join(', ')}` : ''}${operations}`
      : target.modules.join(', ');
    const grpc = target.grpc && !launched.topology.isSingleProcess ? `  gRPC :${target.grpc.port}` : '';
    say(`  ${target.name.padEnd(14)} HTTP :${String(target.http.port).padEnd(5)}${grpc.padEnd(13)}  ${what}`);
  }
  say(`\nready: ${launched.edgeUrl} (Ctrl-C stops every process)`);
  say(`console: npx ficus console --topology ${chosen} (then http://127.0.0.1:3999, signed in as a shop admin)`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('\nstopping …');
    await launched.stop();
    await stopDatabase();
    say('stopped (the Kafka broker keeps running: npm run kafka:stop ends it)');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  startedUp();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
