import { relative, resolve } from 'node:path';
import { REPOSITORY_ROOT } from '@infra/module-graph';
import { CliError, type CliCommand } from '../cli-command';
import { newContext } from '../new-context/new-context';

/**
 * `ficus new context <name>`: a new bounded context that type-checks and passes `ficus verify`,
 * placed in every shipped topology (docs/architecture.md, "Adding to the system").
 */
export const command: CliCommand = {
  name: 'new',
  register(program, io) {
    const created = program.command('new').description('write a new part of the system: a bounded context');
    created
      .command('context')
      .description('write a new bounded context: contract, module, migration, topologies and deploy files')
      .argument('<name>', 'lowercase letters and digits: the name topologies, schemas and topics use')
      .option('--root <dir>', 'the repository to write it into (default: this one)')
      .addHelpText(
        'after',
        `
Writes contracts/<name>/ (contract with a first command and query, an event, the .proto and its
generated codecs) and modules/<name>/ (domain, application, persistence with the first
migration of its number range), a module test, and lists the context in BOUNDED_CONTEXTS,
CONTEXT_CONTRACTS and MODULES. It runs in the monolith's process and in hybrid's core, and gets
a target of its own in split and compose (the next free ports), a scrape job, and its
Kubernetes and compose files. Then: npx ficus verify && npm test.`,
      )
      .action((name: string, options: { root?: string }) => {
        const root = resolve(options.root ?? REPOSITORY_ROOT);
        let report;
        try {
          report = newContext(root, name, (line) => io.err(`new context: ${line}\n`));
        } catch (error) {
          throw new CliError(`ficus new context: ${error instanceof Error ? error.message : String(error)}`);
        }
        const rootOption = root === REPOSITORY_ROOT ? '' : ` --root ${relative(process.cwd(), root)}`;
        io.out(
          `${report.context}: ${report.written.length} files written, ${report.edited.length} shared files listed it ` +
            `(${report.edited.join(', ')}); its own target in split on gRPC ${report.split.grpcPort}, HTTP ` +
            `${report.split.httpPort}; migrations ${report.migrations.first}–${report.migrations.last}\n` +
            `next: npx ficus verify${rootOption} && npm test\n`,
        );
      });
  },
};
