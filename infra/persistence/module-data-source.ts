import { Client } from 'pg';
import { DataSource, type EntitySchema, type MigrationInterface } from 'typeorm';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for entity targets
export type EntityClass = Function | EntitySchema;
export type MigrationClass = new () => MigrationInterface;

export interface ModuleDataSourceOptions {
  readonly context: string;
  readonly url: string;
  readonly entities: readonly EntityClass[];
  readonly migrations: readonly MigrationClass[];
  readonly poolSize: number;
  /**
   * Commit without waiting for the disk: for data whose last seconds may be lost in a crash (the
   * edge's rate-limit counters), never for a context's own.
   */
  readonly asynchronousCommit?: boolean;
}

/** The first key of the advisory lock a context's migrations run under; the second is its schema's. */
const MIGRATIONS_LOCK = 0x6d696772; // "migr"

/**
 * The DataSource of one bounded context: its own pool, its own role, its schema first on the
 * search path, its own migrations table inside that schema. Migrations run at start-up, each in a
 * transaction of its own, under an advisory lock of the context's schema: replicas of a service,
 * or an extracted service and its owner, starting at once on a fresh database take turns (the
 * second finds every migration done) instead of racing to create the same table.
 */
export async function openModuleDataSource(options: ModuleDataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.context,
    entities: [...options.entities],
    migrations: [...options.migrations],
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName: `ficus:${options.context}`,
    extra: {
      // node-postgres's pipeline mode: a transaction sends statements without waiting for the
      // answers to those before (PipelinedTransaction); code that awaits each statement in turn
      // (TypeORM's migrations, single queries) works as before.
      pipeline: true,
      max: options.poolSize,
      options: `-c search_path=${options.context}${options.asynchronousCommit ? ' -c synchronous_commit=off' : ''}`,
      connectionTimeoutMillis: 10_000,
    },
  });
  await dataSource.initialize();
  try {
    await migrateInTurn(dataSource, options);
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}

/** The migrations, run while a session of its own (not one of the pool's, which they use) holds the lock. */
async function migrateInTurn(dataSource: DataSource, options: ModuleDataSourceOptions): Promise<void> {
  const session = new Client({
    connectionString: options.url,
    application_name: `ficus:${options.context}:migrations`,
    connectionTimeoutMillis: 10_000,
  });
  // A session lost while the migrations run (its lock with it) must not take the process down:
  // the migrations go on, each in its transaction, and a racing replica fails as before the lock.
  session.on('error', () => undefined);
  await session.connect();
  try {
    // Held until the session ends, below.
    await session.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATIONS_LOCK, options.context]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await session.end().catch(() => undefined);
  }
}
