import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { configuredOrFreePort } from '@infra/deploy/local/tcp-port';
import {
  ensureDatabase,
  OUTBOX_COLUMNS_SQL,
  startEmbeddedDatabase,
  withDatabase,
  type DatabaseConfig,
  type EmbeddedDatabaseOptions,
} from '@infra/persistence';

export interface BenchDatabase {
  /** Superuser URL of the `postgres` database of the bench's own server. */
  readonly adminUrl: string;
  /** Superuser URL of one database of that server. */
  urlOf(database: string): string;
  /** A database of that server for one shop process (created if missing), as the shop is configured with it. */
  shopDatabase(database: string): Promise<DatabaseConfig>;
  /** Stops the server and removes its throwaway cluster. */
  stop(): Promise<void>;
}

/** What a benchmark may ask of its server beyond the defaults. */
export type BenchDatabaseOptions = Pick<EmbeddedDatabaseOptions, 'statementStatistics'>;

/**
 * A throwaway embedded PostgreSQL for one benchmark: a cluster in a temp folder, on the port the
 * variable `portSetting` names, or else on one the kernel says is free (so it never meets the
 * developer's, the tests' or another benchmark's server, nor whatever holds a fixed port on a
 * shared machine).
 */
export async function startBenchDatabase(
  label: string,
  portSetting: string,
  options: BenchDatabaseOptions = {},
): Promise<BenchDatabase> {
  const port = await configuredOrFreePort(portSetting);
  const dataDir = mkdtempSync(join(tmpdir(), `ficus-bench-${label}-`));
  chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as its own user and must reach the folder
  try {
    const server = await startEmbeddedDatabase({ dataDir, port, portSetting, throwaway: true, ...options });
    return {
      adminUrl: server.adminUrl,
      urlOf: (database) => withDatabase(server.adminUrl, database),
      shopDatabase: async (database) => {
        await ensureDatabase(server.adminUrl, database);
        return {
          adminUrl: server.adminUrl,
          database,
          contextUrls: {},
          roleSecret: 'ficus-bench-role-secret',
          poolSize: 10,
        };
      },
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A database holding an `outbox` table of the shape every context has (OUTBOX_COLUMNS_SQL, the
 * same partial index), in schema `schema`, and a DataSource whose search path starts there: what
 * the relay of a context reads, without the rest of a module around it.
 */
export async function openScratchOutbox(
  database: BenchDatabase,
  name: string,
  schema: string,
): Promise<{ dataSource: DataSource; url: string }> {
  await ensureDatabase(database.adminUrl, name);
  const url = database.urlOf(name);
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    schema,
    synchronize: false,
    logging: false,
    applicationName: `ficus-bench:${schema}`,
    extra: { pipeline: true, max: 10, options: `-c search_path=${schema}` },
  });
  await dataSource.initialize();
  await dataSource.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await dataSource.query(`CREATE TABLE IF NOT EXISTS ${schema}.outbox (${OUTBOX_COLUMNS_SQL})`);
  await dataSource.query(
    `CREATE INDEX IF NOT EXISTS outbox_unpublished ON ${schema}.outbox (seq) WHERE published_at IS NULL`,
  );
  return { dataSource, url };
}
