import { shadowFlagOf, shareOf, shiftFlagOf, ShadowStore, stickyFlagOf } from '@infra/extraction';
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
import { openDeploymentDatabase, type DeploymentDatabase } from '../deployment-database';
import {
  readExtractionState,
  STEP_CHECK_DEFAULTS,
  type ExtractionState,
  type ProcessState,
  type StepChecks,
} from '../commands/status.command';

/** A change of the migration's switches the desk refuses, with the status and code the console answers. */
export class MigrationRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
  }
}

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

interface Stores {
  readonly flags: PostgresFlagStore;
  readonly shadows: ShadowStore;
  readonly deployment: DeploymentDatabase;
}

/**
 * The migration as the console shows and steers it: where each context runs, and for each one
 * being extracted what `ficus status` reads (the owner's shift and shadow flags, the shadow
 * results, the next-step check), with the share the owner's metrics measured, and the changes
 * `ficus shift` and `ficus shadow` make, in the owner's flag store, the admin named in its log.
 * The owner's stores are opened on first use and kept for the console's life.
 */
export class MigrationDesk {
  private readonly stores = new Map<string, Promise<Stores>>();
  /** When an owner's stores last failed to open: not tried again for a few seconds, however many pages poll. */
  private readonly failedAt = new Map<string, number>();
  /** The owner's routed calls at the reading before, per context, for the share measured since. */
  private readonly previous = new Map<string, RoutedReading>();
  /** The share measured at the latest reading, per context: a second read of one reading measures nothing new. */
  private readonly measured = new Map<string, { readonly reading: object; readonly share: MeasuredShare }>();
  /** The answer for the map reading in hand: every page polling within it shares it. */
  private latest?: { readonly reading: object; readonly answer: Promise<ContextMigration[]> };
  private readonly limits: StepChecks;
  private closed = false;

  constructor(
    private readonly topology: Topology,
    private readonly env: NodeJS.ProcessEnv,
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
        throw new MigrationRefusal(422, 'invalid-share', `a share is a whole percentage from 0 to 100, not ${share}`);
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

  async close(): Promise<void> {
    this.closed = true;
    const opened = [...this.stores.values()];
    this.stores.clear();
    for (const stores of opened) {
      const open = await stores.catch(() => undefined);
      if (!open) continue;
      await open.shadows.close().catch(() => undefined);
      await open.flags.close().catch(() => undefined);
      await open.deployment.close().catch(() => undefined);
    }
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
      throw new MigrationRefusal(404, 'context-not-found', `${context} is no context of ${this.topology.name}`);
    }
    if (!this.topology.extractionOf(context)) {
      throw new MigrationRefusal(
        409,
        'not-being-extracted',
        `${context} is not being extracted in ${this.topology.source}: run \`ficus extract ${context}\` first`,
      );
    }
    const unavailable = (error: unknown) => {
      logFailure(`changing ${flag}`, error);
      return new MigrationRefusal(
        503,
        'flags-unavailable',
        `the flags of ${this.topology.targetOf(context).name} cannot be reached now ` +
          `(the console's output says why); retry`,
      );
    };
    let stores: Stores;
    let declarations: Awaited<ReturnType<PostgresFlagStore['declarations']>>;
    let now: FlagState;
    try {
      stores = await this.storesOf(context);
      declarations = await stores.flags.declarations();
      now = (await stores.flags.states()).find((stored) => stored.name === flag)?.state ?? FLAG_OFF;
    } catch (error) {
      throw unavailable(error);
    }
    if (!declarations.some((declaration) => declaration.name === flag)) {
      throw new MigrationRefusal(
        409,
        'flag-not-declared',
        `no running process declares ${flag}: restart ${this.topology.targetOf(context).name} with ` +
          `${this.topology.source}`,
      );
    }
    const moved = movedTo(now);
    if (moved !== undefined) {
      throw new MigrationRefusal(
        409,
        'changed-meanwhile',
        `${flag} is ${moved} now, not what the page showed: someone changed it meanwhile; look again`,
      );
    }
    try {
      return await stores.flags.set(flag, state, by, reason.slice(0, 500));
    } catch (error) {
      throw unavailable(error);
    } finally {
      this.latest = undefined; // the next read shows the change, not the reading before it
    }
  }

  /** The owner's stores (one database per owner target), opened once; a failed open is tried again next time. */
  private storesOf(context: string): Promise<Stores> {
    if (this.closed) return Promise.reject(new Error('the console is stopping'));
    const owner = this.topology.targetOf(context).name;
    let opening = this.stores.get(owner);
    if (!opening) {
      if (Date.now() - (this.failedAt.get(owner) ?? 0) < RETRY_OPEN_MS) {
        return Promise.reject(
          new Error(`opening the flags of ${owner} failed less than ${RETRY_OPEN_MS / 1000} s ago`),
        );
      }
      opening = openStores(this.topology, owner, this.env);
      this.stores.set(owner, opening);
      opening.catch(() => {
        this.stores.delete(owner);
        this.failedAt.set(owner, Date.now());
      });
    }
    return opening;
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

const RETRY_OPEN_MS = 5_000;

/** The owner's flag and shadow stores, on its database as `ficus shift` finds it, never starting one. */
async function openStores(topology: Topology, owner: string, env: NodeJS.ProcessEnv): Promise<Stores> {
  const deployment = await openDeploymentDatabase({ topology: topology.source, target: owner }, env, {
    onlyIfRunning: true,
  });
  try {
    const flags = await PostgresFlagStore.open(deployment.config);
    try {
      return { flags, shadows: await ShadowStore.open(deployment.config), deployment };
    } catch (error) {
      await flags.close();
      throw error;
    }
  } catch (error) {
    await deployment.close();
    throw error;
  }
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

/** A failure the page is told of in general words: its cause (hosts, roles, paths) goes to the console's output. */
function logFailure(what: string, error: unknown): void {
  console.error(`ficus console: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
}
