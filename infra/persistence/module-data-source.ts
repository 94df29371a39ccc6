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

/**
 * The DataSource of one bounded context: its own pool, its own role, its schema first on the
 * search path, its own migrations table inside that schema. Migrations run at start-up, each in a
 * transaction of its own.
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
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}
