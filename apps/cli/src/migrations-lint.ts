import { relative } from 'node:path';
import {
  formatProblem,
  lintMigrations,
  readReleased,
  RELEASED_FILE,
  releaseMigrations,
  writeReleased,
} from '@infra/migration-lint/migration-lint';
import { processIo, type CliIo } from './cli-command';

/**
 * `ficus migrations lint` (and `npm run migrations:lint`): fails, naming file, line and
 * statement, when a migration not yet released drops, renames, retypes or tightens what the
 * previous release still uses (unless it is the contract step of a released expand), or when a
 * released migration was edited or deleted. With `release`, records the current migrations as
 * released, after the release has shipped. See docs/expand-contract.md. Returns the exit code.
 */
export function migrationsLint(options: { release: boolean; json?: boolean }, io: CliIo = processIo): number {
  try {
    const released = readReleased();
    const where = relative(process.cwd(), RELEASED_FILE);
    if (options.release) {
      const next = releaseMigrations(released);
      const added = Object.keys(next.migrations).length - Object.keys(released.migrations).length;
      writeReleased(next);
      io.out(
        `migrations: recorded ${added} new migration(s) as released in ${where} ` +
          `(${Object.keys(next.migrations).length} in all)\n`,
      );
      return 0;
    }
    const problems = lintMigrations(released);
    if (options.json) {
      const report = {
        ok: problems.length === 0,
        released: Object.keys(released.migrations).length,
        problems: problems.map(formatProblem),
      };
      io.out(`${JSON.stringify(report, null, 2)}\n`);
      return problems.length === 0 ? 0 : 1;
    }
    if (problems.length > 0) {
      io.err(
        `migrations: ${problems.length} problem(s):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}\n`,
      );
      return 1;
    }
    io.out(
      `migrations: expand-contract safe (${Object.keys(released.migrations).length} released, checked ` +
        `against ${where})\n`,
    );
    return 0;
  } catch (error) {
    io.err(`migrations: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = migrationsLint({ release: process.argv.includes('--release') });
}
