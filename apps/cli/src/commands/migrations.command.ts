import { CliError, type CliCommand } from '../cli-command';
import { migrationsLint } from '../migrations-lint';

export const command: CliCommand = {
  name: 'migrations',
  register(program, io) {
    const migrations = program
      .command('migrations')
      .description('check database migrations for zero-downtime (expand-contract) safety');
    migrations
      .command('lint')
      .description('fail when a migration would break the release still running while it runs')
      .option('--json', 'print the result as JSON: { ok, problems }')
      .option(
        '--release',
        'record the current migrations as released instead of checking them (after a release shipped)',
      )
      .addHelpText(
        'after',
        `
A migration not yet released may not drop, rename, retype or tighten (SET NOT NULL, NOT NULL
without DEFAULT) what the previous release uses, unless it is the contract step of a released
expand; a released migration may not be edited or deleted. Each problem names file, line and
statement. Released migrations are listed in infra/migration-lint/released-migrations.json.
See docs/expand-contract.md. Also: npm run migrations:lint.`,
      )
      .action((options: { release?: boolean; json?: boolean }) => {
        const code = migrationsLint({ release: options.release === true, json: options.json === true }, io);
        if (code !== 0) throw new CliError('', code);
      });
  },
};
