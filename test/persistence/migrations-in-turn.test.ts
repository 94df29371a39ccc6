import type { DataSource } from 'typeorm';
import {
  DeadLetterReplayedBy1764000000001,
  messagingTablesMigration,
  openModuleDataSource,
  provisionContext,
} from '@infra/persistence';
import { CreateStock1764000000200 } from '../../modules/inventory/src/persistence/migrations/1764000000200-create-stock';
import { CancelledReservations1764000000201 } from '../../modules/inventory/src/persistence/migrations/1764000000201-cancelled-reservations';
import { asAdmin, freshDatabase } from '../support/test-database';

/**
 * Replicas of one service (or an extracted service and its owner) may start at the same moment on
 * a fresh database: each runs its context's migrations at start-up. They take turns under an
 * advisory lock of the schema, so every one starts and each migration runs once; without it they
 * raced to create the same tables and all but one failed.
 */
describe("a context's migrations, run by several processes starting at once", () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  const opened: DataSource[] = [];
  beforeAll(async () => {
    fresh = await freshDatabase('migrations_in_turn');
  });
  afterAll(async () => {
    for (const dataSource of opened) await dataSource.destroy();
    await fresh?.drop();
  });

  it('starts every one of them, each migration run once', async () => {
    const url = await provisionContext(fresh.config, 'inventory');
    const migrations = [
      messagingTablesMigration({ withOutbox: true }),
      DeadLetterReplayedBy1764000000001,
      CreateStock1764000000200,
      CancelledReservations1764000000201,
    ];
    const starts = await Promise.allSettled(
      Array.from({ length: 4 }, () =>
        openModuleDataSource({ context: 'inventory', url, entities: [], migrations, poolSize: 2 }),
      ),
    );
    for (const start of starts) if (start.status === 'fulfilled') opened.push(start.value);
    expect(starts.map((start) => (start.status === 'rejected' ? String(start.reason) : 'started'))).toEqual(
      Array(4).fill('started'),
    );
    const runs = await asAdmin<{ name: string; runs: string }>(
      fresh.config,
      'SELECT name, count(*) AS runs FROM inventory.schema_migrations GROUP BY name ORDER BY name',
    );
    expect(runs.map((run) => Number(run.runs))).toEqual(Array(migrations.length).fill(1));
    // No session keeps the lock once the processes have started.
    const held = await asAdmin(
      fresh.config,
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = $1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [0x6d696772], // the migrations' lock key ("migr")
    );
    expect(held).toEqual([]);
  });
});
