import { relative } from 'node:path';
import { ALL_CONTRACTS, ALL_EVENTS, ALL_SUBGRAPHS } from '@contracts/contexts';
import { check, release, releasedSnapshot, RELEASED_DIR } from '@infra/compatibility/contracts-check';
import { processIo, type CliIo } from './cli-command';

/**
 * `ficus contracts check` (and `npm run contracts:check`): fails, naming each field, when a
 * message schema, a `.proto` or the GraphQL supergraph changed incompatibly with the last release kept in
 * contracts/released/ (additions pass; removals, renames, type changes, reused field numbers fail
 * unless made as a new version beside the old). With `release`, records the current contracts as
 * the release instead. Returns the exit code.
 */
export function contractsCheck(options: { release: boolean; json?: boolean }, io: CliIo = processIo): number {
  if (options.release) {
    release(ALL_CONTRACTS, ALL_EVENTS, ALL_SUBGRAPHS);
    io.out(
      `contracts: recorded ${ALL_EVENTS.length} events, ${ALL_CONTRACTS.length} contracts, their .proto ` +
        `files and the GraphQL supergraph as released in ${relative(process.cwd(), RELEASED_DIR)}\n`,
    );
    return 0;
  }
  const released = releasedSnapshot();
  if (!released) {
    io.err(
      'contracts: nothing released yet — run `ficus contracts check --release` (or `npm run contracts:check -- ' +
        '--release`) first\n',
    );
    return 1;
  }
  const problems = check(ALL_CONTRACTS, ALL_EVENTS, ALL_SUBGRAPHS, released);
  if (options.json) {
    io.out(`${JSON.stringify({ ok: problems.length === 0, problems }, null, 2)}\n`);
    return problems.length === 0 ? 0 : 1;
  }
  if (problems.length > 0) {
    io.err(
      `contracts: ${problems.length} breaking change(s) against the released ` +
        `contracts:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
    io.err('Make the change additive, or publish a new version (.v2) and keep serving the old one.\n');
    return 1;
  }
  io.out('contracts: compatible with the released versions\n');
  return 0;
}

if (require.main === module) {
  process.exitCode = contractsCheck({ release: process.argv.includes('--release') });
}
