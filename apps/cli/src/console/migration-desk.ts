import { shadowFlagOf, shareOf, shiftFlagOf, stickyFlagOf, type ShadowStore } from '@infra/extraction';
import {
  FLAG_OFF,
  FLAG_ON,
  formatFlagState,
  percentState,
  PostgresFlagStore,
  type FlagChange,
  type FlagState,
} from '@infra/flags';
import type { Topology } from '@infra/topology';
import { ConsoleRefusal, logFailure, type DeploymentStores } from './deployment-stores';
import {
  readExtractionState,
  STEP_CHECK_DEFAULTS,
  type ExtractionState,
  type ProcessState,
  type StepChecks,
} from '../commands/status.command';

/** The share of the owner's calls the extracted copy took, from the owner's metrics. */
export interface MeasuredShare {
  /** Since the console's reading before (undefined: no call between the two). */
  readonly recent?: { readonly percent: number; readonly calls: number; readonly seconds: number };
  /** Since the owner started. */
  readonly total?: { readonly percent: number; readonly calls: number };
}

export interface ContextMigration {
  readonly context: string;
  /** The target whose process serves the context's calls (the owner while it is being extracted). */
  readonly runsIn: string;
  /** Its extraction, when one is in progress: switches, shadow results, measured share, next step, log. */
  readonly extraction?: ExtractionState & {
    readonly measured: MeasuredShare;
    readonly log: ReadonlyArray<{
      flag: string;
      from: string | null;
      to: string;
      by: string;
      at: string;
      reason?: string;
    }>;
  };
  /** Why its extraction could not be read now (the owner's database does not answer). */
  readonly unavailable?: string;
}

/**
 * The migration as the console shows and steers it: where each context runs, and for each one
 * being extracted what `ficus status` reads (the owner's shift and shadow flags, the shadow
 * results, the next-step check), with the share the owner's metrics measured, and the changes
 * `ficus shift` and `ficus shadow` make, in the owner's flag store, the admin named in its log.
 * The owner's stores are opened on first use and kept for the console's life.
 */
export class MigrationDesk {
  /** The owner's routed calls at the reading before, per context, for the share measured since. */
  private readonly previous = new Map<string, RoutedReading>();
  /** The share measured at the latest reading, per context: a second read of one reading measures nothing new. */
  private readonly measured = new Map<string, { readonly reading: object; readonly share: MeasuredShare }>();
  /** The answer for the map reading in hand: every page polling within it shares it. */
  private latest?: { readonly reading: object; readonly answer: Promise<ContextMigration[]> };
  private readonly limits: StepChecks;

  constructor(
    private readonly topology: Topology,
    env: NodeJS.ProcessEnv,
    private readonly stores: DeploymentStores,
  ) {
    // As `ficus status` reads it; unset or empty keeps the default.
    const retireAfter = env.FICUS_RETIRE_AFTER_MINUTES?.trim() ? Number(env.FICUS_RETIRE_AFTER_MINUTES) : Number.NaN;
    this.limits = {
      ...STEP_CHECK_DEFAULTS,
      ...(Number.isFinite(retireAfter) && retireAfter >= 0 ? { retireAfterMinutes: retireAfter } : {}),
    };
  }

  /**
   * Every context of the topology: where it runs, and its extraction when one is in progress, for
   * one reading of the processes (the map's, `reading` its identity): read once per reading.
   */
  read(reading: object, processes: readonly ProcessState[]): Promise<ContextMigration[]> {
    if (this.latest?.reading !== reading) this.latest = { reading, answer: this.readNow(reading, processes) };
    return this.latest.answer;
  }

  private async readNow(reading: object, processes: readonly ProcessState[]): Promise<ContextMigration[]> {
    const byTarget = new Map(processes.map((process) => [process.target, process]));
    return Promise.all(
      this.topology.modules.map(async (context): Promise<ContextMigration> => {
        const runsIn = this.topology.targetOf(context).name;
        if (!this.topology.extractionOf(context)) return { context, runsIn };
        try {
          const stores = await this.storesOf(context);
          const state = await readExtractionState(this.topology, context, stores, [...processes], this.limits);
          const log = await logOf(stores.flags, context);
          return { context, runsIn, extraction: { ...state, measured: this.measure(reading, state, byTarget), log } };
        } catch (error) {
          logFailure(`reading the migration of ${context}`, error);
          return {
            context,
            runsIn,
            unavailable: `the flags of ${runsIn} cannot be read now (the console's output says why)`,
          };
        }
      }),
    );
  }

  /**
   * `ficus shift <context> <percent>`, as the admin `by`; 0 rolls back. `expected` is the share
   * the admin saw when they asked: if it moved since (another admin, the CLI), nothing changes.
   */
  async shift(change: {
    context: string;
    percent: number;
    expected?: number;
    by: string;
    reason?: string;
  }): Promise<FlagChange> {
    const { context, percent, expected } = change;
    for (const share of expected === undefined ? [percent] : [percent, expected]) {
      if (!Number.isInteger(share) || share < 0 || share > 100) {
        throw new ConsoleRefusal(422, 'invalid-share', `a share is a whole percentage from 0 to 100, not ${share}`);
      }
    }
    const state = percent === 0 ? FLAG_OFF : percent === 100 ? FLAG_ON : percentState(percent);
    return this.set(
      context,
      shiftFlagOf(context),
      state,
      change.by,
      change.reason ?? `ficus console: shift ${context} ${percent}`,
      (now) => (expected === undefined || shareOf(now) === expected ? undefined : `${shareOf(now)} %`),
    );
  }

  /** `ficus shadow <context> on|off`, as the admin `by`; `expected` as for shift. */
  async shadow(change: {
    context: string;
    on: boolean;
    expected?: boolean;
    by: string;
    reason?: string;
  }): Promise<FlagChange> {
    const { context, on, expected } = change;
    const words = `shadow ${context} ${on ? 'on' : 'off'}`;
    return this.set(
      context,
      shadowFlagOf(context),
      on ? FLAG_ON : FLAG_OFF,
      change.by,
      change.reason ?? `ficus console: ${words}`,
      (now) =>
        expected === undefined || (now.kind === 'on') === expected ? undefined : now.kind === 'on' ? 'on' : 'off',
    );
  }

  private async set(
    context: string,
    flag: string,
    state: FlagState,
    by: string,
    reason: string,
    /** What the flag says now, when that is not what the admin saw (undefined: it is). */
    movedTo: (now: FlagState) => string | undefined,
  ): Promise<FlagChange> {
    if (!this.topology.modules.includes(context)) {
      throw new ConsoleRefusal(404, 'context-not-found', `${context} is no context of ${this.topology.name}`);
    }
    if (!this.topology.extractionOf(context)) {
      throw new ConsoleRefusal(
        409,
        'not-being-extracted',
        `${context} is not being extracted in ${this.topology.source}: run \`ficus extract ${context}\` first`,
      );
    }
    const unavailable = (error: unknown) => {
      logFailure(`changing ${flag}`, error);
      return new ConsoleRefusal(
        503,
        'flags-unavailable',
        `the flags of ${this.topology.targetOf(context).name} cannot be reached now ` +
          `(the console's output says why); retry`,
      );
    };
    let flags: PostgresFlagStore;
    let declared: boolean;
    try {
      flags = await this.stores.flagsOf(this.topology.targetOf(context).name);
      declared = (await flags.declarations()).some((declaration) => declaration.name === flag);
    } catch (error) {
      throw unavailable(error);
    }
    if (!declared) {
      throw new ConsoleRefusal(
        409,
        'flag-not-declared',
        `no running process declares ${flag}: restart ${this.topology.targetOf(context).name} with ` +
          `${this.topology.source}`,
      );
    }
    // Compared under the flag's lock, in the transaction that changes it: no change slips in between.
    const unchanged = (stored: FlagState | undefined) => {
      const moved = movedTo(stored ?? FLAG_OFF);
      if (moved === undefined) return;
      throw new ConsoleRefusal(
        409,
        'changed-meanwhile',
        `${flag} is ${moved} now, not what the page showed: someone changed it meanwhile; look again`,
      );
    };
    try {
      return await flags.set(flag, state, by, reason.slice(0, 500), unchanged);
    } catch (error) {
      if (error instanceof ConsoleRefusal) throw error;
      throw unavailable(error);
    } finally {
      this.latest = undefined; // the next read shows the change, not the reading before it
    }
  }

  /** The owner's flags and shadow results (one database per owner target). */
  private async storesOf(context: string): Promise<{ flags: PostgresFlagStore; shadows: ShadowStore }> {
    const owner = this.topology.targetOf(context).name;
    const [flags, shadows] = await Promise.all([this.stores.flagsOf(owner), this.stores.shadowsOf(owner)]);
    return { flags, shadows };
  }

  /**
   * The share the owner routed to the extracted copy, from its ficus_routed_calls_total, since
   * the reading before and in all; measured once per reading.
   */
  private measure(reading: object, state: ExtractionState, processes: ReadonlyMap<string, ProcessState>) {
    const known = this.measured.get(state.context);
    if (known?.reading === reading) return known.share;
    const share = this.measureNow(state, processes);
    this.measured.set(state.context, { reading, share });
    return share;
  }

  private measureNow(state: ExtractionState, processes: ReadonlyMap<string, ProcessState>): MeasuredShare {
    const owner = processes.get(state.owner);
    // An owner that did not answer has counted nothing we know: no share, and the last reading stays.
    if (!owner || owner.ready === 'unreachable') return {};
    const routed = (version: string) => owner.routed[`${state.extracted}/${version}`]?.calls ?? 0;
    const now = { extracted: routed('extracted'), inProcess: routed('in-process'), at: Date.now() };
    const before = this.previous.get(state.context);
    this.previous.set(state.context, now);
    const share = (extracted: number, total: number) => Math.round((extracted / total) * 1_000) / 10;
    const total = now.extracted + now.inProcess;
    const recentCalls = before ? total - before.extracted - before.inProcess : 0;
    return {
      ...(before && recentCalls > 0
        ? {
            recent: {
              percent: share(now.extracted - before.extracted, recentCalls),
              calls: recentCalls,
              seconds: Math.round((now.at - before.at) / 100) / 10,
            },
          }
        : {}),
      ...(total > 0 ? { total: { percent: share(now.extracted, total), calls: total } } : {}),
    };
  }
}

interface RoutedReading {
  readonly extracted: number;
  readonly inProcess: number;
  readonly at: number;
}

/** The latest changes of the context's shift, shadow and stickiness flags, newest first. */
async function logOf(
  flags: PostgresFlagStore,
  context: string,
): Promise<NonNullable<ContextMigration['extraction']>['log']> {
  const changes = await Promise.all(
    [shiftFlagOf(context), shadowFlagOf(context), stickyFlagOf(context)].map((flag) => flags.history(flag, 10)),
  );
  return changes
    .flat()
    .sort((a, b) => b.at.getTime() - a.at.getTime())
    .slice(0, 10)
    .map((change) => ({
      flag: change.name,
      from: change.from ? formatFlagState(change.from) : null,
      to: formatFlagState(change.to),
      by: change.by,
      at: change.at.toISOString(),
      ...(change.reason ? { reason: change.reason } : {}),
    }));
}
