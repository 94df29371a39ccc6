import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { retiredTopology, shiftFlagOf } from '@infra/extraction';
import { parseTopology } from '@infra/topology';
import { given } from '@infra/config';
import { CliError, type CliCommand } from '../cli-command';
import { withExtractionOptions, withExtractionStores, type ExtractionOptions } from '../extraction-stores';

/** How long a context must have taken every call before its in-process copy may go (FICUS_RETIRE_AFTER_MINUTES). */
const DEFAULT_RETIRE_AFTER_MINUTES = 24 * 60;

/**
 * `ficus retire <context>`: once the extracted service has taken every call for long enough,
 * removes the in-process copy from the owner's target in the topology (ADR 0034).
 */
export const command: CliCommand = {
  name: 'retire',
  register(program, io) {
    withExtractionOptions(program.command('retire'))
      .description(
        "remove a context's in-process copy from the monolith once its extracted service has taken every " +
          'call long enough',
      )
      .argument('<context>', 'the context being extracted')
      .option(
        '--after <minutes>',
        `how long at 100 % first (default FICUS_RETIRE_AFTER_MINUTES, else ${DEFAULT_RETIRE_AFTER_MINUTES})`,
      )
      .option('--out <file>', 'write the new topology here (default: over the given one)')
      .addHelpText(
        'after',
        `
Checks that \`ficus shift <context> 100\` has held for the configured time, then rewrites the
topology: the owner no longer lists the context; the extracted target owns it (its events, its
consumers, its outbox relay), on the same database as before (\`database: { shared: true }\` on
both); Kafka brokers are added if the file had none, since events now cross targets. Restart the
owner and the extracted target with the new file (the owner first); moving the context's data to
a database of its own is a later, separate step (docs/migration-guide.md).`,
      )
      .action(async (context: string, options: ExtractionOptions & { after?: string; out?: string }) => {
        if (!options.topology && !given(io.env.FICUS_TOPOLOGY))
          throw new CliError('retire rewrites a topology: give --topology <file> (the one `ficus extract` wrote)', 2);
        const afterMinutes = Number(
          options.after ?? given(io.env.FICUS_RETIRE_AFTER_MINUTES) ?? DEFAULT_RETIRE_AFTER_MINUTES,
        );
        if (!(afterMinutes >= 0)) throw new CliError('--after is a number of minutes', 2);
        await withExtractionStores(context, options, io, async ({ flags, topology }) => {
          const [last] = await flags.history(shiftFlagOf(context), 1);
          const atFull = last && (last.to.kind === 'on' || (last.to.kind === 'percent' && last.to.percent >= 100));
          if (!last || !atFull) {
            throw new CliError(
              `${context} does not take every call yet: \`ficus shift ${context} 100\` first, then wait ` +
                `${afterMinutes} minutes`,
            );
          }
          const heldMinutes = (Date.now() - last.at.getTime()) / 60_000;
          if (heldMinutes < afterMinutes) {
            throw new CliError(
              `${context} has taken every call for ${heldMinutes.toFixed(1)} minutes of the ${afterMinutes} ` +
                `required — retire after ${new Date(last.at.getTime() + afterMinutes * 60_000).toISOString()}`,
            );
          }
          const source = topology!.source;
          const text = retiredTopology(readFileSync(source, 'utf8'), context);
          const out = options.out ?? source;
          const retired = parseTopology(text, out, { env: io.env }); // refuse to write a file that would not load
          writeFileSync(out, text);
          const owner = topology!.targetOf(context).name;
          const extracted = retired.targetOf(context).name;
          const result = {
            context,
            owner,
            extracted,
            topology: relative(process.cwd(), out),
            heldMinutes: Math.floor(heldMinutes),
          };
          if (options.json) {
            io.out(`${JSON.stringify(result, null, 2)}\n`);
            return;
          }
          io.out(
            `${context}: retired from ${owner}; ${extracted} owns it now (${result.topology}).\n` +
              `Restart ${owner}, then ${extracted}, with this topology: ${extracted} then relays ${context}'s ` +
              `events and consumes what it needs over Kafka.\n`,
          );
        });
      });
  },
};
