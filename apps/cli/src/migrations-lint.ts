import { relative } from 'node:path';
import { formatProblem, lintMigrations, readReleased, RELEASED_FILE, releaseMigrations, writeReleased } from '@infra/migration-lint/migration-lint';

/**
 * `npm run migrations:lint`: fails, naming file, line and statement, when a migration not yet
 * released drops, renames, retypes or tightens what the previous release still uses (unless it is
 * the contract step of a released expand), or when a released migration was edited or deleted.
 * `npm run migrations:lint -- --release` records the current migrations as released, after the
 * release has shipped. See docs/expand-contract.md.
 */
function main(): void {
  const released = readReleased();
  const where = relative(process.cwd(), RELEASED_FILE);
  if (process.argv.includes('--release')) {
    const next = releaseMigrations(released);
    const added = Object.keys(next.migrations).length - Object.keys(released.migrations).length;
    writeReleased(next);
    process.stdout.write(`migrations: recorded ${added} new migration(s) as released in ${where} (${Object.keys(next.migrations).length} in all)\n`);
    return;
  }
  const problems = lintMigrations(released);
  if (problems.length > 0) {
    process.stderr.write(`migrations: ${problems.length} problem(s):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`migrations: expand-contract safe (${Object.keys(released.migrations).length} released, checked against ${where})\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`migrations: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
