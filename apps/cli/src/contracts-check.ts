import { relative } from 'node:path';
import { ALL_CONTRACTS, ALL_EVENTS } from '@contracts/all-contracts';
import { check, release, releasedSnapshot, RELEASED_DIR } from '@infra/compatibility/contracts-check';

/**
 * `npm run contracts:check`: fails, naming each field, when a message schema or a `.proto` changed
 * incompatibly with the last release kept in contracts/released/ (additions pass; removals,
 * renames, type changes, reused field numbers fail unless made as a new version beside the old).
 * `npm run contracts:check -- --release` records the current contracts as the release.
 * (The first command of the `ficus` CLI to come.)
 */
function main(): void {
  if (process.argv.includes('--release')) {
    release(ALL_CONTRACTS, ALL_EVENTS);
    process.stdout.write(`contracts: recorded ${ALL_EVENTS.length} events, ${ALL_CONTRACTS.length} contracts and their .proto files as released in ${relative(process.cwd(), RELEASED_DIR)}\n`);
    return;
  }
  const released = releasedSnapshot();
  if (!released) {
    process.stderr.write('contracts: nothing released yet — run `npm run contracts:check -- --release` first\n');
    process.exit(1);
  }
  const problems = check(ALL_CONTRACTS, ALL_EVENTS, released);
  if (problems.length > 0) {
    process.stderr.write(`contracts: ${problems.length} breaking change(s) against the released contracts:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.stderr.write('Make the change additive, or publish a new version (.v2) and keep serving the old one.\n');
    process.exit(1);
  }
  process.stdout.write('contracts: compatible with the released versions\n');
}

main();
