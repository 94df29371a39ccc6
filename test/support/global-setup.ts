import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// globalSetup runs outside Jest's module mapping: relative import.
import { startEmbeddedDatabase } from '../../infra/persistence/embedded-database';

type Global = typeof globalThis & { __ficusTestDatabase?: { stop(): Promise<void> }; __ficusStartedKafka?: boolean };

/**
 * What the tests need running, started by the tests themselves so that `npm test` works on a
 * fresh machine: one real PostgreSQL server for the whole run (embedded, a throwaway cluster on a
 * port of its own; every test file creates its own database on it), and a Kafka broker (the
 * project's local one, unless KAFKA_BROKERS names another or one already answers on 9092).
 */
export default async function globalSetup(): Promise<void> {
  const global = globalThis as Global;
  if (!process.env.FICUS_TEST_ADMIN_URL) {
    const dataDir = mkdtempSync(join(tmpdir(), 'ficus-test-pg-'));
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as its own user and must reach the folder
    const port = Number(process.env.FICUS_TEST_PG_PORT ?? 54339);
    const server = await startEmbeddedDatabase({ dataDir, port, durability: 'fast' });
    process.env.FICUS_TEST_ADMIN_URL = server.adminUrl;
    global.__ficusTestDatabase = server;
  }
  if (!process.env.KAFKA_BROKERS && !(await answers('127.0.0.1', 9092))) {
    const root = resolve(__dirname, '../..');
    const started = spawnSync(process.execPath, ['-r', '@swc-node/register', 'infra/deploy/kafka/kafka-broker.ts', 'start'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (started.status !== 0) {
      throw new Error('the tests need a Kafka broker: `npm run kafka:start` failed (see above; it needs Java 17 and Maven)');
    }
    global.__ficusStartedKafka = true;
  }
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = createConnection({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolveAnswer(true);
    });
    socket.once('error', () => resolveAnswer(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolveAnswer(false);
    });
  });
}
