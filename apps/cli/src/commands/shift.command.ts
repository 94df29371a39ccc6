import { percentState, FLAG_OFF, FLAG_ON, formatFlagState } from '@infra/flags';
import { shiftFlagOf, stickyFlagOf } from '@infra/extraction';
import { CliError, type CliCommand } from '../cli-command';
import {
  EXTRACTION_STORE_HELP,
  requireDeclared,
  withExtractionOptions,
  withExtractionStores,
  type ExtractionOptions,
} from '../extraction-stores';
import { actor } from './flags.command';

/**
 * `ficus shift <context> <percent>`: the share of the owner's calls of a context that go to its
 * extracted service, at run time (flag `shift.<context>`, ADR 0034); `0` rolls back.
 */
export const command: CliCommand = {
  name: 'shift',
  register(program, io) {
    withExtractionOptions(program.command('shift'))
      .description("send a share of a context's calls to its extracted service, the rest in-process; 0 rolls back")
      .argument('<context>', 'the context being extracted, e.g. inventory')
      .argument('<percent>', '0-100: the share of calls the extracted service takes')
      .option('--sticky', 'keep every call about one aggregate (an order, a product) on one copy')
      .option(
        '--no-sticky',
        'place each call on its own again (stickiness is kept from the last shift otherwise; off at first)',
      )
      .option('--by <who>', 'who makes the change, for the log (default: FICUS_ACTOR, else user@host)')
      .option('--reason <text>', 'why, for the log')
      .addHelpText(
        'after',
        `
The running owner picks the change up at once (no restart) and logs it; the share is measured
as ficus_routed_calls_total{version="in-process"|"extracted"} on the owner. Take the steps
\`ficus status\` proposes: 10, then 50, then 100, each once the extracted copy's error rate is no
worse than in-process. \`ficus shift <context> 0\` sends everything back in-process.
${EXTRACTION_STORE_HELP}

Examples:
  ficus shift inventory 10 --topology infra/topology/monolith-extracting-inventory.yaml
  ficus shift inventory 50 --sticky
  ficus shift inventory 0 --reason "rollback: mismatching stock levels"`,
      )
      .action(
        async (
          context: string,
          percentText: string,
          options: ExtractionOptions & { sticky?: boolean; by?: string; reason?: string },
        ) => {
          const percent = Number(percentText.replace(/%$/, ''));
          if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
            throw new CliError(`the share is a whole percentage from 0 to 100, not ${JSON.stringify(percentText)}`, 2);
          }
          await withExtractionStores(context, options, io, async ({ flags }) => {
            await requireDeclared(flags, shiftFlagOf(context), context);
            const by = options.by ?? actor(io.env);
            const state = percent === 0 ? FLAG_OFF : percent === 100 ? FLAG_ON : percentState(percent);
            const change = await flags.set(
              shiftFlagOf(context),
              state,
              by,
              options.reason ?? `ficus shift ${context} ${percent}`,
            );
            // Stickiness changes only when asked (--sticky / --no-sticky); a new share keeps it.
            if (options.sticky !== undefined) {
              await flags.set(
                stickyFlagOf(context),
                options.sticky ? FLAG_ON : FLAG_OFF,
                by,
                options.sticky ? 'sticky per aggregate' : 'each call on its own',
              );
            }
            const sticky =
              options.sticky ??
              (await flags.states()).some((s) => s.name === stickyFlagOf(context) && s.state.kind === 'on');
            const result = {
              context,
              percent,
              sticky,
              from: change.from ? formatFlagState(change.from) : null,
              at: change.at.toISOString(),
            };
            if (options.json) {
              io.out(`${JSON.stringify(result, null, 2)}\n`);
              return;
            }
            io.out(
              percent === 0
                ? `${context}: every call in-process again (rolled back from ${result.from ?? 'nothing'})\n`
                : `${context}: ${percent} % of calls to the extracted ` +
                    `service${sticky ? ', sticky per aggregate' : ''} (was ${result.from ?? 'unset'}); live now\n`,
            );
          });
        },
      );
  },
};
