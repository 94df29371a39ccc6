import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// globalSetup runs outside Jest's module mapping: relative imports.
import { configuredOrFreePort } from '../../infra/deploy/local/tcp-port';
import { leaseBroker, type BrokerLease } from '../../infra/deploy/kafka/local-broker';
import { startEmbeddedDatabase } from '../../infra/persistence/embedded-database';

type Global = typeof globalThis & { __ficusTestDatabase?: { stop(): Promise<void> }; __ficusKafka?: BrokerLease };

/**
 * What the tests need running, started by the tests themselves so that `npm test` works on a
 * fresh machine: one real PostgreSQL server for the whole run (embedded, a throwaway cluster on a
 * free port, or FICUS_TEST_PG_PORT; every test file creates its own database on it), and a Kafka broker (the
 * project's local one, unless KAFKA_BROKERS names another or one already answers on 9092).
 * globalTeardown stops what this started, and only that.
 */
export default async function globalSetup(): Promise<void> {
  const global = globalThis as Global;
  if (!process.env.FICUS_TEST_ADMIN_URL) {
    const dataDir = mkdtempSync(join(tmpdir(), 'ficus-test-pg-'));
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as its own user and must reach the folder
    const port = await configuredOrFreePort('FICUS_TEST_PG_PORT');
    const server = await startEmbeddedDatabase({
      dataDir,
      port,
      durability: 'fast',
      throwaway: true,
      portSetting: 'FICUS_TEST_PG_PORT',
    }).catch((error: unknown) => {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    });
    process.env.FICUS_TEST_ADMIN_URL = server.adminUrl;
    // The cluster is a throwaway: its folder goes with the server.
    global.__ficusTestDatabase = {
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  global.__ficusKafka = await leaseBroker();
}
