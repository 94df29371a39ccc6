import { resolve } from 'node:path';
import { formatViolation, progressLines, REPOSITORY_ROOT, verifyBoundaries } from '@infra/module-graph';
import { CliError, type CliCommand } from '../cli-command';

/**
 * `ficus verify`: step 1 of the migration guide (docs/migration-guide.md). Every boundary rule,
 * each violation as `file:line: rule — what is wrong — the fix`; exit 1 on any.
 */
export const command: CliCommand = {
  name: 'verify',
  register(program, io) {
    program
      .command('verify')
      .description(
        'check module boundaries: imports, contracts, schemas and roles, events only through the outbox; exit ' +
          '1 on any violation',
      )
      .option('--root <dir>', 'the tree to check (default: this repository)')
      .option('--json', 'print JSON instead of text')
      .addHelpText(
        'after',
        `
Runs the dependency-cruiser rules of .dependency-cruiser.cjs (modules import each other only
through contracts, contracts import no implementation, infra has no business words, domain
code no framework) and ficus's own checks on module code (SQL or entities on another
context's schema, a module declaring another context's role, events published around the
outbox), and that every contract method declares who may call it. Each violation prints as

  file:line: rule — what is wrong — the fix

Exit code 0 when the tree is clean, 1 on any violation. Also: npm run boundaries (imports only).`,
      )
      .action(async (options: { root?: string; json?: boolean }) => {
        const root = resolve(options.root ?? REPOSITORY_ROOT);
        const progress = progressLines(io.err, 'verify', options.json === true);
        const report = await verifyBoundaries(root, progress);
        progress.done(`${report.violations.length} violation(s)`);
        if (options.json) {
          io.out(`${JSON.stringify({ ok: report.violations.length === 0, ...report }, null, 2)}\n`);
        } else if (report.violations.length === 0) {
          io.out(
            `ok: no boundary violation in ${root} (${report.cruised} files cruised, ${report.moduleFiles} ` +
              `module files checked, contexts: ${report.contexts.join(', ')})\n`,
          );
        } else {
          io.out(
            `${report.violations.map(formatViolation).join('\n')}\n\n${report.violations.length} boundary ` +
              `violation(s) in ${root}\n`,
          );
        }
        if (report.violations.length > 0) throw new CliError('', 1);
      });
  },
};
