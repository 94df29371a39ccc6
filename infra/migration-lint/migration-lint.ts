import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import {
  parseMigrationFile,
  RISKY_HELPERS,
  type MigrationSource,
  type ParsedMigrationFile,
  type SqlText,
} from './migration-source';
import { findRisks, newMigrationScope, RISK_REASONS, stillRisky, type Risk, type RiskRule } from './risky-statements';

/**
 * The expand-contract migration linter behind `npm run migrations:lint`
 * (apps/cli/src/migrations-lint.ts; `npm test` runs it in test/deploy/migration-lint.test.ts).
 * See docs/expand-contract.md and docs/adr/0025-expand-contract-migration-linter.md.
 *
 * - A migration not yet released may not drop, rename, retype or tighten what the previous release
 *   uses, unless it is the contract step (`static readonly contractOf = '<expand migration>'`) of
 *   an expand migration that is already released.
 * - A released migration is history: never linted again, but its file must not change.
 */
export const ROOT = resolve(__dirname, '../..');
export const RELEASED_FILE = join(ROOT, 'infra', 'migration-lint', 'released-migrations.json');

export interface ReleasedMigration {
  /** Where the migration was when it was released, relative to the repository root. */
  readonly file: string;
  /** SHA-256 of that file's text (line endings made `\n`). */
  readonly sha256: string;
}

export interface ReleasedMigrations {
  readonly migrations: Readonly<Record<string, ReleasedMigration>>;
}

export interface MigrationProblem {
  readonly file: string;
  readonly line: number;
  readonly migration: string;
  readonly reason: string;
  /** The statement at fault, whitespace collapsed; empty when the problem is the whole file. */
  readonly statement: string;
}

export function formatProblem(problem: MigrationProblem): string {
  const head = `${problem.file}:${problem.line} ${problem.migration}: ${problem.reason}`;
  return problem.statement ? `${head}\n    ${problem.statement}` : head;
}

/** Every migration file under `root`: each context's, and the messaging tables every context gets. */
export function migrationFiles(root = ROOT): string[] {
  const files: string[] = [];
  const modules = join(root, 'modules');
  for (const context of existsSync(modules) ? readdirSync(modules).sort() : []) {
    const dir = join(modules, context, 'src', 'persistence', 'migrations');
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.ts') && !name.endsWith('.test.ts') && name !== 'index.ts') files.push(join(dir, name));
    }
  }
  const persistence = join(root, 'infra', 'persistence');
  for (const name of existsSync(persistence) ? readdirSync(persistence).sort() : []) {
    if (name.endsWith('.migration.ts')) files.push(join(persistence, name));
  }
  return files.map((file) => relative(root, file).split(sep).join('/'));
}

export function sha256Of(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

export function readReleased(path = RELEASED_FILE): ReleasedMigrations {
  if (!existsSync(path)) return { migrations: {} };
  return JSON.parse(readFileSync(path, 'utf8')) as ReleasedMigrations;
}

export function writeReleased(released: ReleasedMigrations, path = RELEASED_FILE): void {
  const sorted = Object.entries(released.migrations).sort(
    ([a, x], [b, y]) => x.file.localeCompare(y.file) || a.localeCompare(b),
  );
  const body = {
    $comment:
      'Migrations shipped in a release, with the SHA-256 of their file. Written by `npm run migrations:lint -- ' +
      '--release`; never edit a shipped migration, add a new one (docs/expand-contract.md).',
    migrations: Object.fromEntries(sorted),
  };
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`);
}

function isReleased(released: ReleasedMigrations, name: string): boolean {
  return Object.hasOwn(released.migrations, name);
}

interface ParsedFile extends ParsedMigrationFile {
  readonly file: string;
}

function oneLine(text: string, max = 240): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  return collapsed.length > max ? `${collapsed.slice(0, max - 1)}…` : collapsed;
}

const CONTRACT_ADVICE =
  'split it expand → migrate → contract (docs/expand-contract.md): the contract step declares `static readonly ' +
  "contractOf = '<expand migration>'` and ships in a release after the expand, once no running release uses " +
  'what it removes';

function lintUnreleased(
  parsed: ParsedFile,
  migration: MigrationSource,
  released: ReleasedMigrations,
  known: ReadonlySet<string>,
): MigrationProblem[] {
  const problems: MigrationProblem[] = [];
  const problem = (at: number, reason: string, statement: string): void => {
    problems.push({
      file: parsed.file,
      line: parsed.lineAt(at),
      migration: migration.name,
      reason,
      statement: oneLine(statement),
    });
  };
  if (migration.malformedContractOfAt !== undefined) {
    problem(
      migration.malformedContractOfAt,
      "contractOf must read `static readonly contractOf = '<expand migration name>'`",
      '',
    );
  }
  const expand = migration.contractOf;
  if (expand !== undefined && !known.has(expand) && !isReleased(released, expand)) {
    problem(migration.at, `contractOf names "${expand}", which is no migration`, '');
  }
  const contractAllowed = expand !== undefined && isReleased(released, expand);
  const why = (rule: RiskRule): string => {
    const reason = RISK_REASONS[rule];
    return expand === undefined
      ? `${reason}; ${CONTRACT_ADVICE}`
      : `${reason}; it is the contract step of ${expand}, which is not released yet: ship ${expand} first, ` +
          `then record the release (npm run migrations:lint -- --release)`;
  };

  const scope = newMigrationScope();
  const found: { risk: Risk; sql: SqlText }[] = [];
  for (const call of migration.calls) {
    if (call.kind === 'unreadable') {
      problem(
        call.at,
        'runner.query with SQL the linter cannot read: pass a string or template literal (or a const holding one)',
        call.source,
      );
    } else if (call.kind === 'helper') {
      if (!contractAllowed) problem(call.at, why(RISKY_HELPERS[call.method]), call.source);
    } else {
      found.push(...findRisks(call.sql.text, scope).map((risk) => ({ risk, sql: call.sql })));
    }
  }
  for (const { risk, sql } of contractAllowed ? [] : found.filter(({ risk }) => stillRisky(risk, scope))) {
    const from = sql.positions[risk.start];
    const to = sql.positions[Math.max(risk.end - 1, risk.start)] + 1;
    problem(sql.positions[risk.at], why(risk.rule), parsed.text.slice(from, to));
  }
  return problems.sort((a, b) => a.line - b.line);
}

/**
 * Every problem of the migrations in `files` (paths relative to `root`) against the released
 * ones. A released migration that is no longer among `files` counts as deleted, so pass every file.
 */
export function lintMigrations(
  released: ReleasedMigrations,
  root = ROOT,
  files = migrationFiles(root),
): MigrationProblem[] {
  const parsedFiles: ParsedFile[] = files.map((file) => ({
    file,
    ...parseMigrationFile(file, readFileSync(join(root, file), 'utf8')),
  }));
  const problems: MigrationProblem[] = [];
  const byName = new Map<string, ParsedFile>();
  for (const parsed of parsedFiles) {
    if (parsed.migrations.length === 0) {
      problems.push({
        file: parsed.file,
        line: 1,
        migration: '-',
        reason: 'no migration class (a class with an `up` method) in this file',
        statement: '',
      });
    }
    for (const migration of parsed.migrations) {
      const other = byName.get(migration.name);
      if (other && other !== parsed) {
        problems.push({
          file: parsed.file,
          line: parsed.lineAt(migration.at),
          migration: migration.name,
          reason: `a migration of that name is also in ${other.file}`,
          statement: '',
        });
      }
      byName.set(migration.name, parsed);
    }
  }

  for (const [name, shipped] of Object.entries(released.migrations)) {
    const parsed = byName.get(name);
    if (!parsed) {
      problems.push({
        file: shipped.file,
        line: 1,
        migration: name,
        reason: 'a released migration is gone: never delete a shipped migration',
        statement: '',
      });
    } else if (sha256Of(parsed.text) !== shipped.sha256) {
      problems.push({
        file: parsed.file,
        line: 1,
        migration: name,
        reason: 'this released migration changed since its release: never edit a shipped migration; add a new one',
        statement: '',
      });
    }
  }

  const known = new Set(byName.keys());
  for (const parsed of parsedFiles) {
    for (const migration of parsed.migrations) {
      if (!isReleased(released, migration.name)) problems.push(...lintUnreleased(parsed, migration, released, known));
    }
  }
  return problems;
}

/**
 * The released record with every current migration added, for `--release`. Refused while the
 * linter finds a problem, so that neither an edited shipped migration nor an unsafe one is
 * recorded as released.
 */
export function releaseMigrations(
  released: ReleasedMigrations,
  root = ROOT,
  files = migrationFiles(root),
): ReleasedMigrations {
  const problems = lintMigrations(released, root, files);
  if (problems.length > 0) {
    throw new Error(
      `refusing to release with ${problems.length} migration problem(s):\n${problems.map(formatProblem).join('\n')}`,
    );
  }
  const migrations: Record<string, ReleasedMigration> = { ...released.migrations };
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const migration of parseMigrationFile(file, text).migrations) {
      migrations[migration.name] ??= { file, sha256: sha256Of(text) };
    }
  }
  return { migrations };
}
