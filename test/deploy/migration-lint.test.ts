import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import {
  formatProblem,
  lintMigrations,
  migrationFiles,
  readReleased,
  releaseMigrations,
  sha256Of,
  type MigrationProblem,
  type ReleasedMigrations,
} from '@infra/migration-lint/migration-lint';

/**
 * The expand-contract linter (docs/expand-contract.md) on the real migrations, and on planted ones
 * in a throwaway tree laid out like modules/<context>/src/persistence/migrations.
 */

const MIGRATIONS = 'modules/inventory/src/persistence/migrations';

function migration(className: string, upSql: readonly string[], extra = ''): string {
  const queries = upSql.map((sql) => `    await runner.query(${sql});`).join('\n');
  return [
    "import type { MigrationInterface, QueryRunner } from 'typeorm';",
    '',
    `export class ${className} implements MigrationInterface {`,
    `  name = '${className}';${extra}`,
    '',
    '  async up(runner: QueryRunner): Promise<void> {',
    queries,
    '  }',
    '',
    '  async down(): Promise<void> {}',
    '}',
    '',
  ].join('\n');
}

const CREATE_STOCK = migration('CreateStock1764000000200', [
  '`\n      CREATE TABLE stock (\n        sku text PRIMARY KEY,\n        available integer NOT NULL\n      )`',
]);

let root: string;
let released: ReleasedMigrations;

function write(file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

function lint(): MigrationProblem[] {
  return lintMigrations(released, root);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ficus-migration-lint-'));
  write(`${MIGRATIONS}/1764000000200-create-stock.ts`, CREATE_STOCK);
  released = releaseMigrations({ migrations: {} }, root);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the real migrations', () => {
  it('are expand-contract safe, and none released was edited or deleted', () => {
    expect(lintMigrations(readReleased()).map(formatProblem)).toEqual([]);
  });

  it('include every context and the messaging tables', () => {
    const files = migrationFiles();
    expect(files).toContain('infra/persistence/messaging-tables.migration.ts');
    for (const context of BOUNDED_CONTEXTS) {
      expect(files.some((file) => file.startsWith(`modules/${context}/src/persistence/migrations/`))).toBe(true);
    }
  });
});

describe('a migration not yet released', () => {
  const file = `${MIGRATIONS}/1764000000202-change-stock.ts`;

  it.each([
    [
      'DROP COLUMN',
      "'ALTER TABLE stock DROP COLUMN available'",
      'DROP COLUMN',
      'ALTER TABLE stock DROP COLUMN available',
    ],
    [
      'a column rename',
      "'ALTER TABLE stock RENAME COLUMN available TO on_hand'",
      'RENAME',
      'ALTER TABLE stock RENAME COLUMN available TO on_hand',
    ],
    [
      'a table rename',
      "'ALTER TABLE inventory.stock RENAME TO stock_levels'",
      'RENAME',
      'ALTER TABLE inventory.stock RENAME TO stock_levels',
    ],
    ['DROP TABLE', "'DROP TABLE IF EXISTS stock'", 'DROP TABLE', 'DROP TABLE IF EXISTS stock'],
    [
      'a type change',
      "'ALTER TABLE stock ALTER COLUMN available TYPE bigint'",
      'ALTER COLUMN … TYPE',
      'ALTER TABLE stock ALTER COLUMN available TYPE bigint',
    ],
    [
      'SET NOT NULL',
      "'ALTER TABLE stock ALTER COLUMN sku SET NOT NULL'",
      'SET NOT NULL',
      'ALTER TABLE stock ALTER COLUMN sku SET NOT NULL',
    ],
    [
      'ADD COLUMN NOT NULL without DEFAULT',
      "'ALTER TABLE stock ADD COLUMN reorder_level integer NOT NULL'",
      'NOT NULL without DEFAULT',
      'ALTER TABLE stock ADD COLUMN reorder_level integer NOT NULL',
    ],
  ])('fails on %s, naming file, line and statement', (_, sql, reason, statement) => {
    write(file, migration('ChangeStock1764000000202', ["'CREATE INDEX stock_by_available ON stock (available)'", sql]));
    const problems = lint();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file, line: 8, migration: 'ChangeStock1764000000202', statement });
    expect(problems[0].reason).toContain(reason);
    expect(formatProblem(problems[0])).toContain(`${file}:8 ChangeStock1764000000202: `);
  });

  it('passes ADD COLUMN NOT NULL with a DEFAULT, and a nullable one', () => {
    write(
      file,
      migration('ChangeStock1764000000202', [
        "'ALTER TABLE stock ADD COLUMN reorder_level integer NOT NULL DEFAULT 0'",
        "'ALTER TABLE stock ADD COLUMN location text'",
      ]),
    );
    expect(lint()).toEqual([]);
  });

  it('passes SET NOT NULL on a column that the same migration gives a DEFAULT, not on one it only backfills', () => {
    write(
      file,
      migration('ChangeStock1764000000202', [
        "'ALTER TABLE stock ADD COLUMN counted_at timestamptz'",
        "'UPDATE stock SET counted_at = now()'",
        "'ALTER TABLE stock ALTER COLUMN counted_at SET NOT NULL, ALTER COLUMN counted_at SET DEFAULT now()'",
        "'ALTER TABLE stock ADD COLUMN location text'",
        "'UPDATE stock SET location = sku'",
        "'ALTER TABLE stock ALTER COLUMN location SET NOT NULL'",
      ]),
    );
    expect(lint().map((p) => [p.line, p.statement])).toEqual([
      [12, 'ALTER TABLE stock ALTER COLUMN location SET NOT NULL'],
    ]);
  });

  it('finds the statement on its own line inside a multi-line template with interpolations', () => {
    const sql =
      '`\n      ALTER TABLE ${TABLE}\n        ADD COLUMN note text,\n        DROP COLUMN ${COLUMN} -- gone\n    `';
    write(
      file,
      migration('ChangeStock1764000000202', [sql]).replace(
        'export class',
        "const TABLE = 'stock';\nconst COLUMN = 'x';\nexport class",
      ),
    );
    const problems = lint();
    expect(problems.map((p) => [p.line, p.statement])).toEqual([
      [12, 'ALTER TABLE ${TABLE} ADD COLUMN note text, DROP COLUMN ${COLUMN}'],
    ]);
  });

  it('lets a new table be created, changed and dropped within the same migration', () => {
    write(
      file,
      migration('ChangeStock1764000000202', [
        "'CREATE TABLE scratch (a int)'",
        "'ALTER TABLE scratch ADD COLUMN b int NOT NULL'",
        "'DROP TABLE scratch'",
      ]),
    );
    expect(lint()).toEqual([]);
  });

  it('ignores SQL in comments and string literals, and refuses SQL it cannot read', () => {
    write(
      file,
      migration('ChangeStock1764000000202', [
        '"SELECT \'DROP TABLE stock\' -- ALTER TABLE stock DROP COLUMN sku"',
        'sqlFromSomewhere()',
      ]),
    );
    expect(lint().map((p) => [p.line, p.reason.slice(0, 48), p.statement])).toEqual([
      [8, 'runner.query with SQL the linter cannot read: pa', 'sqlFromSomewhere()'],
    ]);
  });

  it('fails on QueryRunner helpers that drop or rename', () => {
    write(
      file,
      migration('ChangeStock1764000000202', []).replace(
        '  }\n\n  async down',
        "    await runner.dropColumn('stock', 'available');\n  }\n\n  async down",
      ),
    );
    expect(lint().map((p) => [p.line, p.statement])).toEqual([[8, "runner.dropColumn('stock', 'available')"]]);
  });
});

describe('the contract step of an expand', () => {
  const expandFile = `${MIGRATIONS}/1764000000202-add-on-hand.ts`;
  const contractFile = `${MIGRATIONS}/1764000000203-drop-available.ts`;
  const expand = migration('AddOnHand1764000000202', ["'ALTER TABLE stock ADD COLUMN on_hand integer'"]);
  const contract = migration(
    'DropAvailable1764000000203',
    ["'ALTER TABLE stock ALTER COLUMN on_hand SET NOT NULL'", "'ALTER TABLE stock DROP COLUMN available'"],
    "\n  static readonly contractOf = 'AddOnHand1764000000202';",
  );

  it('fails while its expand is not released, and passes once it is', () => {
    write(expandFile, expand);
    write(contractFile, contract);
    const problems = lint();
    expect(problems.map((p) => [p.file, p.line, p.statement])).toEqual([
      [contractFile, 8, 'ALTER TABLE stock ALTER COLUMN on_hand SET NOT NULL'],
      [contractFile, 9, 'ALTER TABLE stock DROP COLUMN available'],
    ]);
    expect(problems[1].reason).toContain('contract step of AddOnHand1764000000202, which is not released yet');
    expect(() => releaseMigrations(released, root)).toThrow(/refusing to release/);

    rmSync(join(root, contractFile));
    released = releaseMigrations(released, root);
    write(contractFile, contract);
    expect(lint()).toEqual([]);
  });

  it('fails when contractOf names no migration', () => {
    write(contractFile, contract);
    expect(lint().map((p) => p.reason)).toContain('contractOf names "AddOnHand1764000000202", which is no migration');
  });
});

describe('a released migration', () => {
  it('fails when its file was edited', () => {
    write(
      `${MIGRATIONS}/1764000000200-create-stock.ts`,
      CREATE_STOCK.replace('available integer NOT NULL', 'available bigint NOT NULL'),
    );
    expect(lint()).toEqual([
      expect.objectContaining({
        file: `${MIGRATIONS}/1764000000200-create-stock.ts`,
        line: 1,
        migration: 'CreateStock1764000000200',
        reason: expect.stringContaining('never edit a shipped migration; add a new one'),
      }),
    ]);
  });

  it('fails when it was deleted', () => {
    rmSync(join(root, `${MIGRATIONS}/1764000000200-create-stock.ts`));
    expect(lint().map((p) => p.reason)).toEqual(['a released migration is gone: never delete a shipped migration']);
  });

  it('is not linted again for what it drops', () => {
    write(`${MIGRATIONS}/1764000000202-drop-stock.ts`, migration('DropStock1764000000202', ["'DROP TABLE stock'"]));
    expect(lint()).toHaveLength(1);
    // Released by a past release, before this linter or as the contract step of a released expand.
    const file = `${MIGRATIONS}/1764000000202-drop-stock.ts`;
    released = {
      migrations: {
        ...released.migrations,
        DropStock1764000000202: { file, sha256: sha256Of(readFileSync(join(root, file), 'utf8')) },
      },
    };
    expect(lint()).toEqual([]);
  });
});
