import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// globalSetup runs outside Jest's module mapping: relative import.
import { startEmbeddedDatabase } from '../../infra/persistence/embedded-database';

/**
 * One real PostgreSQL server for the whole test run (embedded, a throwaway cluster on a port of
 * its own); every test file creates its own database on it, so files never share state.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.FICUS_TEST_ADMIN_URL) {
    return; // an outer runner (or the developer) provides a server
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ficus-test-pg-'));
  chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as its own user and must reach the folder
  const port = Number(process.env.FICUS_TEST_PG_PORT ?? 54339);
  const server = await startEmbeddedDatabase({ dataDir, port, durability: 'fast' });
  process.env.FICUS_TEST_ADMIN_URL = server.adminUrl;
  (globalThis as { __ficusTestDatabase?: { stop(): Promise<void> } }).__ficusTestDatabase = server;
}
