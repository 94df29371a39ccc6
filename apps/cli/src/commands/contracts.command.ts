import { CliError, type CliCommand } from '../cli-command';
import { contractsCheck } from '../contracts-check';

export const command: CliCommand = {
  name: 'contracts',
  register(program, io) {
    const contracts = program
      .command('contracts')
      .description('check the contracts between modules against the last release (contracts/released/)');
    contracts
      .command('check')
      .description('fail when a message schema or a .proto changed incompatibly with the released contracts')
      .option('--json', 'print the result as JSON: { ok, problems }')
      .option(
        '--release',
        'record the current contracts as the release instead of checking them (after a release shipped)',
      )
      .addHelpText(
        'after',
        `
Additions pass: a new optional field, a new method, a new event. A removed or renamed field, a
changed type or a reused protobuf field number fails, naming the field, unless it is made as a
new version (order-placed.v2) beside the old one. Also: npm run contracts:check.`,
      )
      .action((options: { release?: boolean; json?: boolean }) => {
        const code = contractsCheck({ release: options.release === true, json: options.json === true }, io);
        if (code !== 0) throw new CliError('', code);
      });
  },
};
