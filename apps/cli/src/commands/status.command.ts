import type { FlagState, PostgresFlagStore, StoredFlag } from '@infra/flags';
import { parseExposition, type MetricSample } from '@infra/observability';
import { shadowFlagOf, shareOf, shiftFlagOf, stickyFlagOf, type ShadowStore } from '@infra/extraction';
import type { DeployTarget, Topology } from '@infra/topology';
import { given } from '@infra/config';
import { CliError, type CliCommand, type CliIo } from '../cli-command';
import { topologyOf, withExtractionOptions, withExtractionStores, type ExtractionOptions } from '../extraction-stores';
import { shadowReportOf, type ShadowReport } from './shadow.command';

/** The checks between steps; each can be changed for a run (tests use minutes, not a day). */
const DEFAULTS = {
  shadowWindowMinutes: 24 * 60,
  minMatchPercent: 99.9,
  minShadowed: 100,
  retireAfterMinutes: 24 * 60,
  minShiftedCalls: 100,
};
const SHIFT_STEPS = [10, 50, 100];

export interface ProcessState {
  readonly target: string;
  readonly modules: readonly string[];
  readonly extractedFrom?: string;
  readonly ready: boolean | 'unreachable';
  readonly breakers: Record<string, string>;
  readonly outboxBacklog: Record<string, number>;
  readonly consumerLag: number;
  readonly routed: Record<string, { calls: number; errors: number }>;
}

export interface ExtractionState {
  readonly context: string;
  readonly owner: string;
  readonly extracted: string;
  readonly shift: number;
  readonly sticky: boolean;
  readonly shadow: boolean;
  readonly shadowReport: ShadowReport;
  readonly errorRates: { inProcess?: number; extracted?: number };
  readonly next: { safe: boolean; step: string; why: string };
}

/**
 * `ficus status`: where every module runs, each extraction's shift and shadow, the processes'
 * breakers, outbox backlog and lag, and whether the next step of the migration is safe.
 */
export const command: CliCommand = {
  name: 'status',
  register(program, io) {
    withExtractionOptions(program.command('status'))
      .description(
        'where every module runs, shift and shadow state, breakers, backlog, lag, and whether the next step is safe',
      )
      .option(
        '--shadow-window <minutes>',
        `how long shadowing must have run before shifting (default ${DEFAULTS.shadowWindowMinutes})`,
      )
      .option(
        '--min-match <percent>',
        `shadow match rate required before shifting (default ${DEFAULTS.minMatchPercent})`,
      )
      .option('--min-shadowed <n>', `shadowed reads required before shifting (default ${DEFAULTS.minShadowed})`)
      .option(
        '--min-shifted <n>',
        `calls the extracted copy must have served before the next share (default ${DEFAULTS.minShiftedCalls})`,
      )
      .option(
        '--retire-after <minutes>',
        `how long at 100 % before retiring (default FICUS_RETIRE_AFTER_MINUTES, else ${DEFAULTS.retireAfterMinutes})`,
      )
      .addHelpText(
        'after',
        `
Reads the topology (--topology, as \`ficus extract\` wrote it), the owner's flags and shadow
results, and each process's /metrics. The next step is safe when:
  shadow → shift 10 %: shadowing ran for the window, matched ≥ --min-match % of ≥ --min-shadowed
    reads, and the extracted copy failed no more often than the in-process one;
  10 → 50 → 100 %: the extracted copy served ≥ --min-shifted calls at the current share with an
    error rate no worse than in-process;
  100 % → retire: held for --retire-after minutes.`,
      )
      .action(async (options: ExtractionOptions & Record<string, string | undefined>) => {
        const topology = topologyOf(options, io.env);
        if (!topology) throw new CliError('status reads a topology: give --topology <file> (or set FICUS_TOPOLOGY)', 2);
        const limits = {
          shadowWindowMinutes: Number(options.shadowWindow ?? DEFAULTS.shadowWindowMinutes),
          minMatchPercent: Number(options.minMatch ?? DEFAULTS.minMatchPercent),
          minShadowed: Number(options.minShadowed ?? DEFAULTS.minShadowed),
          minShiftedCalls: Number(options.minShifted ?? DEFAULTS.minShiftedCalls),
          retireAfterMinutes: Number(
            options.retireAfter ?? given(io.env.FICUS_RETIRE_AFTER_MINUTES) ?? DEFAULTS.retireAfterMinutes,
          ),
        };
        const processes = await Promise.all(topology.targets.map((target) => readProcessState(target)));
        const contexts = topology.modules.filter((module) => topology.extractionOf(module));
        const extractions: ExtractionState[] = [];
        for (const context of contexts) {
          extractions.push(
            await withExtractionStores(context, options, io, (stores) =>
              readExtractionState(topology, context, stores, processes, limits),
            ),
          );
        }
        const next =
          extractions.length > 0
            ? extractions.map((e) => e.next)
            : [{ safe: true, step: 'ficus plan, then ficus extract <context>', why: 'no context is being extracted' }];
        if (options.json) {
          io.out(`${JSON.stringify({ topology: topology.source, processes, extractions, next }, null, 2)}\n`);
          return;
        }
        printStatus(io, topology, processes, extractions, next);
      });
  },
};

export type StepChecks = typeof DEFAULTS;
/** The checks between steps as `ficus status` makes them by default (the console's). */
export const STEP_CHECK_DEFAULTS: Readonly<StepChecks> = Object.freeze({ ...DEFAULTS });

/** Reads one extraction's switches and shadow results from the owner's stores, and judges its next step. */
export async function readExtractionState(
  topology: Topology,
  context: string,
  stores: { readonly flags: PostgresFlagStore; readonly shadows: ShadowStore },
  processes: ProcessState[],
  limits: StepChecks,
): Promise<ExtractionState> {
  const { flags, shadows } = stores;
  return extractionState(
    topology,
    context,
    await flags.states(),
    await flags.history(shiftFlagOf(context), 1),
    (await flags.history(shadowFlagOf(context), 1)).find((change) => change.to.kind === 'on')?.at,
    // The window's results only: a mismatch fixed a week ago no longer holds the step back.
    await shadowReportOf(shadows, context, limits.shadowWindowMinutes > 0 ? limits.shadowWindowMinutes : undefined),
    processes,
    limits,
  );
}

function extractionState(
  topology: Topology,
  context: string,
  states: StoredFlag[],
  lastShift: Array<{ to: FlagState; at: Date }>,
  /** When shadowing was last turned on (undefined: it is off, or never was). */
  shadowOnSince: Date | undefined,
  shadowReport: ShadowReport,
  processes: ProcessState[],
  limits: StepChecks,
): ExtractionState {
  const stateOf = (name: string): FlagState | undefined => states.find((s) => s.name === name)?.state;
  const shift = shareOf(stateOf(shiftFlagOf(context)) ?? { kind: 'off' });
  const sticky = stateOf(stickyFlagOf(context))?.kind === 'on';
  const shadow = stateOf(shadowFlagOf(context))?.kind === 'on';
  const owner = topology.targetOf(context).name;
  const extracted = topology.extractionOf(context)!.name;
  const routed = processes.find((p) => p.target === owner)?.routed ?? {};
  const rate = (version: string) => {
    const r = routed[`${extracted}/${version}`];
    return r && r.calls > 0 ? (r.errors / r.calls) * 100 : undefined;
  };
  const errorRates = { inProcess: rate('in-process'), extracted: rate('extracted') };
  const shadowTotal = shadowReport.matches + shadowReport.mismatches + shadowReport.errors;
  const next = ((): ExtractionState['next'] => {
    if (shift === 0) {
      if (!shadow)
        return {
          safe: true,
          step: `ficus shadow ${context} on`,
          why: `start ${extracted}, then compare its answers with the in-process ones`,
        };
      const ranMinutes = shadowOnSince ? (Date.now() - shadowOnSince.getTime()) / 60_000 : 0;
      const shadowErrorRate = shadowTotal > 0 ? (shadowReport.errors / shadowTotal) * 100 : 0;
      const problems = [
        ranMinutes < limits.shadowWindowMinutes &&
          `shadowing has run ${ranMinutes.toFixed(0)} of ${limits.shadowWindowMinutes} minutes`,
        shadowTotal < limits.minShadowed && `${shadowTotal} of ${limits.minShadowed} reads compared`,
        (shadowReport.matchRate ?? 0) < limits.minMatchPercent &&
          `match rate ${(shadowReport.matchRate ?? 0).toFixed(2)} % < ${limits.minMatchPercent} % (ficus ` +
            `shadow report ${context})`,
        shadowErrorRate > (errorRates.inProcess ?? 0) &&
          `the extracted copy failed ${shadowErrorRate.toFixed(2)} % of shadowed reads, in-process ` +
            `${(errorRates.inProcess ?? 0).toFixed(2)} %`,
      ].filter(Boolean) as string[];
      return problems.length === 0
        ? {
            safe: true,
            step: `ficus shift ${context} 10`,
            why:
              `${(shadowReport.matchRate ?? 0).toFixed(2)} % of ${shadowTotal} reads matched over ` +
              `${ranMinutes.toFixed(0)} minutes, errors no worse than in-process`,
          }
        : { safe: false, step: `keep shadowing ${context}`, why: problems.join('; ') };
    }
    const worse = (errorRates.extracted ?? 0) > (errorRates.inProcess ?? 0);
    if (worse)
      return {
        safe: false,
        step: `ficus shift ${context} 0`,
        why:
          `the extracted copy fails ${(errorRates.extracted ?? 0).toFixed(2)} % of calls, in-process ` +
          `${(errorRates.inProcess ?? 0).toFixed(2)} %: roll back and look`,
      };
    if (shift >= 100) {
      const since = lastShift[0]?.at;
      const held = since ? (Date.now() - since.getTime()) / 60_000 : 0;
      return held >= limits.retireAfterMinutes
        ? {
            safe: true,
            step: `ficus retire ${context}`,
            why: `${extracted} has taken every call for ${held.toFixed(0)} minutes`,
          }
        : {
            safe: false,
            step: `wait, then ficus retire ${context}`,
            why: `at 100 % for ${held.toFixed(0)} of ${limits.retireAfterMinutes} minutes`,
          };
    }
    const served = routed[`${extracted}/extracted`]?.calls ?? 0;
    const nextShare = SHIFT_STEPS.find((step) => step > shift) ?? 100;
    return served >= limits.minShiftedCalls
      ? {
          safe: true,
          step: `ficus shift ${context} ${nextShare}`,
          why: `${served} calls served by ${extracted} so far (now at ${shift} %), error rate no worse than in-process`,
        }
      : {
          safe: false,
          step: `hold ${context} at ${shift} %`,
          why: `${served} of ${limits.minShiftedCalls} calls served by ${extracted} so far`,
        };
  })();
  return { context, owner, extracted, shift, sticky, shadow, shadowReport, errorRates, next };
}

/** A process's operations port (/ready, /metrics): the edge's own beside the public API, any other target's one. */
export function operationsUrlOf(target: DeployTarget): string {
  const host = target.grpc?.host ?? (target.operations.host === '0.0.0.0' ? '127.0.0.1' : target.operations.host);
  return `http://${host}:${target.operations.port}`;
}

/** One process's state from its /metrics and /ready; unreachable processes say so. */
export async function readProcessState(target: DeployTarget): Promise<ProcessState> {
  const scraped = await scrapeProcess(target);
  return scraped ? processStateOf(target, scraped.ready, scraped.samples) : unreachableProcess(target);
}

/** A process's /ready and /metrics, read at once; undefined when it does not answer within 2 s. */
export async function scrapeProcess(
  target: DeployTarget,
): Promise<{ readonly ready: boolean; readonly samples: MetricSample[] } | undefined> {
  const base = operationsUrlOf(target);
  try {
    const [ready, metrics] = await Promise.all([
      fetch(`${base}/ready`, { signal: AbortSignal.timeout(2_000) }).then(async (r) => {
        await r.body?.cancel(); // only its status is read: its connection goes back to the pool
        return r.status === 200;
      }),
      fetch(`${base}/metrics`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text()),
    ]);
    return { ready, samples: parseExposition(metrics) };
  } catch {
    return undefined;
  }
}

export function unreachableProcess(target: DeployTarget): ProcessState {
  return { ...emptyProcessState(target), ready: 'unreachable' };
}

/** A process's state from what it answered: breakers, outbox backlog, consumer lag, routed calls. */
export function processStateOf(target: DeployTarget, ready: boolean, samples: readonly MetricSample[]): ProcessState {
  const breakers: Record<string, string> = {};
  const outboxBacklog: Record<string, number> = {};
  const routed: Record<string, { calls: number; errors: number }> = {};
  let consumerLag = 0;
  for (const { name, labels, value } of samples) {
    if (name === 'ficus_circuit_breaker_state')
      breakers[labels.target] = ['closed', 'half-open', 'open'][value] ?? String(value);
    else if (name === 'ficus_outbox_backlog') outboxBacklog[labels.context] = value;
    else if (name === 'ficus_consumer_lag') consumerLag += value;
    else if (name === 'ficus_routed_calls_total') {
      const key = `${labels.target}/${labels.version}`;
      const entry = (routed[key] ??= { calls: 0, errors: 0 });
      entry.calls += value;
      if (labels.outcome !== 'ok' && labels.outcome !== 'stream') entry.errors += value;
    }
  }
  return { ...emptyProcessState(target), ready, breakers, outboxBacklog, consumerLag, routed };
}

function emptyProcessState(target: DeployTarget): Omit<ProcessState, 'ready'> {
  return {
    target: target.name,
    modules: target.modules,
    extractedFrom: target.extractedFrom,
    breakers: {},
    outboxBacklog: {},
    consumerLag: 0,
    routed: {},
  };
}

function printStatus(
  io: CliIo,
  topology: Topology,
  processes: ProcessState[],
  extractions: ExtractionState[],
  next: ExtractionState['next'][],
): void {
  io.out(`topology ${topology.name} (${topology.source})\n\nwhere modules run:\n`);
  for (const p of processes) {
    const role = p.extractedFrom ? ` (extracting from ${p.extractedFrom})` : '';
    const ready = p.ready === 'unreachable' ? 'unreachable' : p.ready ? 'ready' : 'NOT READY';
    const breakers = Object.entries(p.breakers)
      .filter(([, state]) => state !== 'closed')
      .map(([t, state]) => `${t} ${state}`);
    const backlog = Object.values(p.outboxBacklog).reduce((a, b) => a + b, 0);
    io.out(
      `  ${p.target}${role}: ${p.modules.join(', ') || 'edge'} — ${ready}; breakers ` +
        `${breakers.length ? breakers.join(', ') : 'all closed'}; outbox backlog ${backlog}; consumer lag ` +
        `${p.consumerLag}\n`,
    );
  }
  for (const e of extractions) {
    const r = e.shadowReport;
    io.out(
      `\n${e.context}: ${e.owner} → ${e.extracted}\n` +
        `  shift ${e.shift} %${e.sticky ? ' (sticky)' : ''}; shadow ${e.shadow ? 'on' : 'off'}; ` +
        `shadow ${
          r.matchRate === undefined
            ? 'no comparison yet'
            : `${r.matchRate.toFixed(2)} % match of ` + `${r.matches + r.mismatches + r.errors}`
        }\n` +
        `  error rate in-process ${fmt(e.errorRates.inProcess)}, extracted ${fmt(e.errorRates.extracted)}\n`,
    );
  }
  io.out('\nnext:\n');
  for (const n of next) io.out(`  ${n.safe ? 'safe' : 'not yet'}: ${n.step} — ${n.why}\n`);
}

function fmt(rate: number | undefined): string {
  return rate === undefined ? 'n/a' : `${rate.toFixed(2)} %`;
}
