import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import {
  lintMigrations,
  migrationFiles,
  readReleased,
  ROOT,
  sha256Of,
  type ReleasedMigrations,
} from '@infra/migration-lint/migration-lint';
import { openModuleDataSource, provisionContext, UnitOfWork, type MigrationClass } from '@infra/persistence';
import { planCommit, planReservation, type StockOnHand } from '../../modules/inventory/src/domain/reservation';
import { CreateStock1764000000200 } from '../../modules/inventory/src/persistence/migrations/1764000000200-create-stock';
import { CancelledReservations1764000000201 } from '../../modules/inventory/src/persistence/migrations/1764000000201-cancelled-reservations';
import { AddStockOnHand1764000000202 } from '../../modules/inventory/src/persistence/migrations/1764000000202-add-stock-on-hand';
import { BackfillStockOnHand1764000000203 } from '../../modules/inventory/src/persistence/migrations/1764000000203-backfill-stock-on-hand';
import { StockRepository } from '../../modules/inventory/src/persistence/stock.repository';
import { asAdmin, freshDatabase } from '../support/test-database';
import { DropStockAvailable1764000000204 } from './drop-stock-available.migration';
import { OldStockRepository } from './old-stock.repository';

/**
 * The worked example of docs/expand-contract.md, run: inventory's `stock.available` (unreserved)
 * becomes `stock.on_hand` (on the shelf, reserved included). The previous release (its repository
 * kept in old-stock.repository.ts) and the current one (modules/inventory) run side by side on one
 * real database through expand and backfill; the contract step waits until the previous one is gone.
 */

const OLD_RELEASE: MigrationClass[] = [CreateStock1764000000200, CancelledReservations1764000000201];
const EXPAND: MigrationClass[] = [...OLD_RELEASE, AddStockOnHand1764000000202];
const BACKFILL: MigrationClass[] = [...EXPAND, BackfillStockOnHand1764000000203];
const CONTRACT: MigrationClass[] = [...BACKFILL, DropStockAvailable1764000000204];

const CONTRACT_FILE = 'test/expand-contract/drop-stock-available.migration.ts';
const EXPAND_FILE = 'modules/inventory/src/persistence/migrations/1764000000202-add-stock-on-hand.ts';

describe('the contract step DropStockAvailable1764000000204, to the migration linter', () => {
  const lintWith = (released: ReleasedMigrations) =>
    lintMigrations(released, ROOT, [...migrationFiles(), CONTRACT_FILE]).filter(
      (problem) => problem.file === CONTRACT_FILE,
    );

  it('is refused while its expand is not released', () => {
    const problems = lintWith(readReleased());
    expect(problems.map((problem) => problem.statement)).toEqual([
      'ALTER TABLE stock ALTER COLUMN on_hand SET NOT NULL, DROP COLUMN available',
      'ALTER TABLE stock ALTER COLUMN on_hand SET NOT NULL, DROP COLUMN available',
    ]);
    for (const problem of problems) {
      expect(problem.reason).toContain(
        'it is the contract step of AddStockOnHand1764000000202, which is not released yet',
      );
    }
  });

  it('passes once the expand is recorded as released', () => {
    const released = readReleased();
    const expand = { file: EXPAND_FILE, sha256: sha256Of(readFileSync(join(ROOT, EXPAND_FILE), 'utf8')) };
    expect(lintWith({ migrations: { ...released.migrations, AddStockOnHand1764000000202: expand } })).toEqual([]);
  });
});

/** One release of inventory: its own pool (as its own process would have), its own repository. */
interface Release {
  readonly dataSource: DataSource;
  readonly uow: UnitOfWork;
  readonly stock: Pick<StockRepository, 'levels' | 'lockLevels' | 'save' | 'addAvailable'>;
}

describe('stock.available → stock.on_hand, the previous and the current release on one database', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let url: string;
  const opened: DataSource[] = [];
  let old: Release;
  let current: Release;

  /** Starts a release: like a process start, it runs the migrations it ships that are still pending. */
  async function start(
    migrations: MigrationClass[],
    repository: new (uow: UnitOfWork) => Release['stock'],
  ): Promise<Release> {
    const dataSource = await openModuleDataSource({ context: 'inventory', url, entities: [], migrations, poolSize: 4 });
    opened.push(dataSource);
    const uow = new UnitOfWork('inventory', dataSource);
    return { dataSource, uow, stock: new repository(uow) };
  }

  const level = async (release: Release, sku: string): Promise<StockOnHand> => {
    const [found] = await release.stock.levels([sku]);
    return found;
  };
  /** What ReserveStockHandler does: lock, plan in the domain, save. */
  const reserve = (release: Release, sku: string, quantity: number) =>
    release.uow.transaction(async () => {
      const plan = planReservation([{ sku, quantity }], await release.stock.lockLevels([sku]));
      if (plan.kind === 'reserve') await release.stock.save(plan.levels);
      return plan.kind;
    });
  /** What CommitReservationHandler does: the goods leave the shelf. */
  const commit = (release: Release, sku: string, quantity: number) =>
    release.uow.transaction(async () =>
      release.stock.save(planCommit([{ sku, quantity }], await release.stock.lockLevels([sku]))),
    );
  const restock = (release: Release, sku: string, quantity: number) =>
    release.uow.transaction(() => release.stock.addAvailable(sku, quantity));

  /** The stored row, both counts, as the superuser sees it. */
  const row = async (sku: string) => {
    const [found] = await asAdmin<{ available: number; on_hand: number | null; reserved: number }>(
      fresh.config,
      'SELECT available, on_hand, reserved FROM inventory.stock WHERE sku = $1',
      [sku],
    );
    return found;
  };
  const columns = async () =>
    asAdmin<{ column_name: string; is_nullable: string }>(
      fresh.config,
      "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'inventory' AND table_name = 'stock' ORDER BY column_name",
    );

  beforeAll(async () => {
    fresh = await freshDatabase('expand_contract');
    url = await provisionContext(fresh.config, 'inventory');
  });
  afterAll(async () => {
    for (const dataSource of opened) await dataSource.destroy();
    await fresh?.drop();
  });

  it('release N−1 alone: writes only `available`', async () => {
    old = await start(OLD_RELEASE, OldStockRepository);
    await restock(old, 'PRE-EXPAND', 10);
    expect(await reserve(old, 'PRE-EXPAND', 3)).toBe('reserve');
    await restock(old, 'UNTOUCHED', 5);
    // Rows the previous releases left behind, more than one backfill batch of them.
    await asAdmin(
      fresh.config,
      "INSERT INTO inventory.stock (sku, available, reserved) SELECT 'LEGACY-' || n, n % 7, n % 3 FROM generate_series(1, 1234) AS n",
    );

    expect(await level(old, 'PRE-EXPAND')).toEqual({ sku: 'PRE-EXPAND', available: 7, reserved: 3 });
    expect((await columns()).map((c) => c.column_name)).toEqual(['available', 'reserved', 'sku', 'updated_at']);
  });

  it('expand: release N starts, adds a nullable on_hand and reads rows nobody wrote since, before any backfill', async () => {
    current = await start(EXPAND, StockRepository);

    expect(await columns()).toContainEqual({ column_name: 'on_hand', is_nullable: 'YES' });
    expect(await row('PRE-EXPAND')).toEqual({ available: 7, on_hand: null, reserved: 3 });
    expect(await level(current, 'PRE-EXPAND')).toEqual({ sku: 'PRE-EXPAND', available: 7, reserved: 3 });
    expect(await level(current, 'LEGACY-20')).toEqual({ sku: 'LEGACY-20', available: 6, reserved: 2 });
    // The previous release still runs: it still reads what it wrote.
    expect(await level(old, 'UNTOUCHED')).toEqual({ sku: 'UNTOUCHED', available: 5, reserved: 0 });
  });

  it('side by side: each release creates rows the other reads, and each keeps both counts right', async () => {
    await restock(current, 'BY-NEW', 8);
    expect(await row('BY-NEW')).toEqual({ available: 8, on_hand: 8, reserved: 0 });
    expect(await level(old, 'BY-NEW')).toEqual({ sku: 'BY-NEW', available: 8, reserved: 0 });

    await restock(old, 'BY-OLD', 6);
    expect(await row('BY-OLD')).toEqual({ available: 6, on_hand: 6, reserved: 0 });
    expect(await level(current, 'BY-OLD')).toEqual({ sku: 'BY-OLD', available: 6, reserved: 0 });
  });

  it('side by side: each release reserves, ships and restocks the rows of the other', async () => {
    // Reserving moves stock from available to reserved; on_hand stays.
    expect(await reserve(current, 'BY-OLD', 2)).toBe('reserve');
    expect(await row('BY-OLD')).toEqual({ available: 4, on_hand: 6, reserved: 2 });
    expect(await level(old, 'BY-OLD')).toEqual({ sku: 'BY-OLD', available: 4, reserved: 2 });

    expect(await reserve(old, 'BY-NEW', 5)).toBe('reserve');
    expect(await row('BY-NEW')).toEqual({ available: 3, on_hand: 8, reserved: 5 });
    expect(await level(current, 'BY-NEW')).toEqual({ sku: 'BY-NEW', available: 3, reserved: 5 });

    // Shipping leaves available as it is and takes the goods off the shelf: on_hand goes down.
    await commit(old, 'BY-NEW', 1);
    expect(await row('BY-NEW')).toEqual({ available: 3, on_hand: 7, reserved: 4 });
    await commit(current, 'BY-OLD', 2);
    expect(await row('BY-OLD')).toEqual({ available: 4, on_hand: 4, reserved: 0 });
    expect(await level(old, 'BY-OLD')).toEqual({ sku: 'BY-OLD', available: 4, reserved: 0 });

    // Restocking adds on top, also to a row that no one wrote since the expand.
    expect(await restock(current, 'PRE-EXPAND', 5)).toEqual({ sku: 'PRE-EXPAND', available: 12, reserved: 3 });
    expect(await row('PRE-EXPAND')).toEqual({ available: 12, on_hand: 15, reserved: 3 });
    expect(await restock(old, 'BY-NEW', 2)).toEqual({ sku: 'BY-NEW', available: 5, reserved: 4 });
    expect(await level(current, 'BY-NEW')).toEqual({ sku: 'BY-NEW', available: 5, reserved: 4 });
  });

  it('side by side: both releases reserving the same sku at once never oversell it', async () => {
    await restock(old, 'CONTENDED', 10);
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) => reserve(i % 2 === 0 ? old : current, 'CONTENDED', 1)),
    );
    expect(answers.filter((answer) => answer === 'reserve')).toHaveLength(10);
    expect(await row('CONTENDED')).toEqual({ available: 0, on_hand: 10, reserved: 10 });
  });

  it('backfill: fills every row left, in batches, and changes nothing when run again', async () => {
    const before = await asAdmin<{ count: number }>(
      fresh.config,
      'SELECT count(*)::int AS count FROM inventory.stock WHERE on_hand IS NULL',
    );
    expect(before[0].count).toBeGreaterThan(1_000);

    current = await start(BACKFILL, StockRepository);
    const left = async () =>
      asAdmin<{ sku: string }>(
        fresh.config,
        'SELECT sku FROM inventory.stock WHERE on_hand IS NULL OR on_hand IS DISTINCT FROM available + reserved',
      );
    expect(await left()).toEqual([]);
    expect(await row('UNTOUCHED')).toEqual({ available: 5, on_hand: 5, reserved: 0 });
    expect(await row('LEGACY-20')).toEqual({ available: 6, on_hand: 8, reserved: 2 });

    const again = current.dataSource.createQueryRunner();
    try {
      const untouched = await row('LEGACY-20');
      await new BackfillStockOnHand1764000000203().up(again);
      expect(await row('LEGACY-20')).toEqual(untouched);
    } finally {
      await again.release();
    }
  });

  it('after the backfill both releases still read and write the same rows', async () => {
    expect(await reserve(old, 'UNTOUCHED', 1)).toBe('reserve');
    expect(await reserve(current, 'UNTOUCHED', 1)).toBe('reserve');
    expect(await level(old, 'UNTOUCHED')).toEqual({ sku: 'UNTOUCHED', available: 3, reserved: 2 });
    expect(await level(current, 'UNTOUCHED')).toEqual({ sku: 'UNTOUCHED', available: 3, reserved: 2 });
    expect(await row('UNTOUCHED')).toEqual({ available: 3, on_hand: 5, reserved: 2 });
  });

  it('contract: once release N−1 is gone, `available` goes; release N keeps every level, and N−1 would now fail', async () => {
    const skus = ['PRE-EXPAND', 'UNTOUCHED', 'BY-NEW', 'BY-OLD', 'CONTENDED', 'LEGACY-1', 'LEGACY-20', 'LEGACY-1234'];
    const levelsBefore = await current.stock.levels(skus);

    current = await start(CONTRACT, StockRepository);

    expect(await columns()).toEqual([
      { column_name: 'on_hand', is_nullable: 'NO' },
      { column_name: 'reserved', is_nullable: 'NO' },
      { column_name: 'sku', is_nullable: 'NO' },
      { column_name: 'updated_at', is_nullable: 'NO' },
    ]);
    expect(await current.stock.levels(skus)).toEqual(levelsBefore);

    await restock(current, 'AFTER-CONTRACT', 4);
    expect(await reserve(current, 'AFTER-CONTRACT', 3)).toBe('reserve');
    await commit(current, 'AFTER-CONTRACT', 3);
    expect(await level(current, 'AFTER-CONTRACT')).toEqual({ sku: 'AFTER-CONTRACT', available: 1, reserved: 0 });
    expect(await reserve(current, 'AFTER-CONTRACT', 2)).toBe('reject');

    // Why the contract step waits for the previous release to be gone: it reads and writes `available`.
    await expect(level(old, 'BY-NEW')).rejects.toThrow('column "available" does not exist');
    await expect(restock(old, 'BY-NEW', 1)).rejects.toThrow('column "available" of relation "stock" does not exist');
  });
});
