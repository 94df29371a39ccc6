import { FLAG_OFF, FLAG_ON } from '@infra/flags';
import { shadowFlagOf, type ShadowMismatch, type ShadowStore, type ShadowTally } from '@infra/extraction';
import { CliError, type CliCommand, type CliIo } from '../cli-command';
import {
  EXTRACTION_STORE_HELP,
  requireDeclared,
  topologyOf,
  withExtractionOptions,
  withExtractionStores,
  type ExtractionOptions,
} from '../extraction-stores';
import { actor } from './flags.command';

/**
 * `ficus shadow <context> on|off` and `ficus shadow report [context]`: while a context is served
 * in-process, also ask its extracted service the same reads and compare the answers (ADR 0034).
 */
export const command: CliCommand = {
  name: 'shadow',
  register(program, io) {
    withExtractionOptions(program.command('shadow'))
      .description(
        "compare the extracted service's answers with the in-process ones (on|off), or show the results (report)",
      )
      .argument('<context|report>', 'the context being extracted, or `report`')
      .argument('[state|context]', 'on | off; after `report`, the context (default: every one being extracted)')
      .option('--since <minutes>', 'report: only the last N minutes')
      .option('--limit <n>', 'report: at most this many mismatches', '10')
      .addHelpText(
        'after',
        `
Only reads are shadowed (idempotent methods named get…, list…, check…, find…, search…): a write is
never sent twice. The caller always gets the in-process answer, never slower; the extracted
service gets the same request with the same budget. A match is the same answer (or the same
error); a mismatch is kept with the request and both answers; an error is the extracted copy
failing alone. A difference is checked once more in-process: if that answer moved too, the data
changed between the reads, and the comparison counts as inconclusive, neither way.
${EXTRACTION_STORE_HELP}

Examples:
  ficus shadow inventory on
  ficus shadow report inventory --since 60
  ficus shadow inventory off`,
      )
      .action(
        async (
          first: string,
          second: string | undefined,
          options: ExtractionOptions & { since?: string; limit: string },
        ) => {
          if (first === 'report') return report(second, options, io);
          if (second !== 'on' && second !== 'off')
            throw new CliError(`ficus shadow ${first} on|off — not ${JSON.stringify(second ?? '')}`, 2);
          await withExtractionStores(first, options, io, async ({ flags }) => {
            await requireDeclared(flags, shadowFlagOf(first), first);
            await flags.set(
              shadowFlagOf(first),
              second === 'on' ? FLAG_ON : FLAG_OFF,
              actor(io.env),
              `ficus shadow ${first} ${second}`,
            );
            if (options.json) io.out(`${JSON.stringify({ context: first, shadow: second })}\n`);
            else
              io.out(
                `${first}: shadowing ${
                  second === 'on'
                    ? 'on — reads served in-process are now also asked of ' + 'the extracted service'
                    : 'off'
                }\n`,
              );
          });
        },
      );
  },
};

export interface ShadowReport extends ShadowTally {
  readonly context: string;
  /**
   * matches / (matches + mismatches + errors), in percent (inconclusive ones left out); undefined
   * before the first comparison.
   */
  readonly matchRate?: number;
  readonly mismatchSamples: ShadowMismatch[];
}

export async function shadowReportOf(
  shadows: ShadowStore,
  context: string,
  sinceMinutes?: number,
  limit = 10,
): Promise<ShadowReport> {
  const since = sinceMinutes === undefined ? undefined : new Date(Date.now() - sinceMinutes * 60_000);
  const tally = await shadows.tally(context, since);
  const total = tally.matches + tally.mismatches + tally.errors;
  return {
    context,
    ...tally,
    matchRate: total === 0 ? undefined : (tally.matches / total) * 100,
    mismatchSamples: await shadows.mismatches(context, limit),
  };
}

async function report(
  context: string | undefined,
  options: ExtractionOptions & { since?: string; limit: string },
  io: CliIo,
): Promise<void> {
  const sinceMinutes = options.since === undefined ? undefined : Number(options.since);
  if (sinceMinutes !== undefined && !(sinceMinutes > 0)) throw new CliError('--since is a number of minutes', 2);
  const contexts = context ? [context] : extractingContexts(options, io);
  if (contexts.length === 0)
    throw new CliError('which context? give one, or a --topology with an extraction in progress', 2);
  // Every context being extracted from one owner shares its store: the first one finds it.
  await withExtractionStores(contexts[0], options, io, async ({ shadows }) => {
    const reports = await Promise.all(
      contexts.map((c) => shadowReportOf(shadows, c, sinceMinutes, Number(options.limit))),
    );
    if (options.json) {
      io.out(`${JSON.stringify(reports, null, 2)}\n`);
      return;
    }
    for (const r of reports) {
      const total = r.matches + r.mismatches + r.errors;
      io.out(
        total === 0
          ? `${r.context}: no shadowed call yet\n`
          : `${r.context}: ${r.matchRate!.toFixed(2)} % match — ${r.matches} matches, ${r.mismatches} ` +
              `mismatches, ${r.errors} errors of ${total} reads (${r.inconclusive} more inconclusive: the data ` +
              `changed between the two reads), ${r.since!.toISOString()} to ${r.until!.toISOString()}\n`,
      );
      for (const m of r.mismatchSamples) {
        io.out(
          `  ${m.at?.toISOString()} ${m.call} ${JSON.stringify(m.request)}\n    in-process: ` +
            `${JSON.stringify(m.inProcess)}\n    extracted:  ${JSON.stringify(m.extracted)}\n`,
        );
      }
    }
  });
}

function extractingContexts(options: ExtractionOptions, io: CliIo): string[] {
  const topology = topologyOf(options, io.env);
  return topology ? topology.modules.filter((module) => topology.extractionOf(module)) : [];
}
