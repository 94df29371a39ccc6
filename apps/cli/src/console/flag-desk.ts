import {
  FLAG_OFF,
  FlagStateError,
  formatFlagState,
  parseFlagState,
  type FlagChange,
  type FlagState,
  type PostgresFlagStore,
} from '@infra/flags';
import type { Topology } from '@infra/topology';
import { mergeFlagRows } from '../commands/flags.command';
import { ConsoleRefusal, logFailure, type DeploymentStores } from './deployment-stores';

/** A flag as the Flags page shows it: what it says now, its default, and its latest changes. */
export interface ConsoleFlag {
  readonly name: string;
  /** `on`, `off` or `percent 30`: its stored state, or its default while nobody set it. */
  readonly state: string;
  /** Its declared default (null: no running process of the target declares it). */
  readonly default: string | null;
  readonly description: string | null;
  readonly updatedAt: string | null;
  readonly updatedBy: string | null;
  /** Its latest changes, newest first. */
  readonly log: ReadonlyArray<{ from: string | null; to: string; by: string; at: string; reason?: string }>;
}

/** The flags of one deploy target (each keeps its own, in its own database), or why they cannot be read. */
export interface TargetFlags {
  readonly target: string;
  readonly modules: readonly string[];
  readonly flags?: readonly ConsoleFlag[];
  readonly unavailable?: string;
}

/** How many changes of each flag the page lists. */
const LOG_LENGTH = 10;

/**
 * The Flags page's reads and changes: every flag of every target that hosts modules, as `ficus
 * flags list --topology --target` reads them, and `ficus flags set` as the admin, guarded by the
 * state the page showed (someone else's change meanwhile is a 409, not overwritten).
 */
export class FlagDesk {
  constructor(
    private readonly topology: Topology,
    private readonly stores: DeploymentStores,
  ) {}

  read(): Promise<TargetFlags[]> {
    return Promise.all(
      this.topology.targets
        .filter((target) => target.modules.length > 0)
        .map(async (target): Promise<TargetFlags> => {
          const base = { target: target.name, modules: target.modules };
          try {
            const store = await this.stores.flagsOf(target.name);
            const rows = mergeFlagRows(await store.declarations(), await store.states());
            const logs = await Promise.all(rows.map((row) => store.history(row.name, LOG_LENGTH)));
            return {
              ...base,
              flags: rows.map((row, index) => ({
                name: row.name,
                state: formatFlagState(row.state),
                default: row.default ? formatFlagState(row.default) : null,
                description: row.description ?? null,
                updatedAt: row.updatedAt?.toISOString() ?? null,
                updatedBy: row.updatedBy ?? null,
                log: logs[index].map(logLine),
              })),
            };
          } catch (error) {
            logFailure(`reading the flags of ${target.name}`, error);
            return {
              ...base,
              unavailable: `the flags of ${target.name} cannot be read now (the console's output says why)`,
            };
          }
        }),
    );
  }

  /**
   * `ficus flags set <flag> <state> --topology --target <target>`, as the admin `by`. `expected`
   * is the state the page showed: if the flag says something else now, nothing changes (409).
   * Only a flag a process of the target declares, or one set before, can be set (no --force here).
   */
  async set(change: {
    target: string;
    flag: string;
    state: string;
    expected: string;
    by: string;
    reason?: string;
  }): Promise<FlagChange> {
    const target = this.topology.targets.find((candidate) => candidate.name === change.target);
    if (!target || target.modules.length === 0) {
      throw new ConsoleRefusal(
        404,
        'target-not-found',
        `${this.topology.name} has no target ${change.target} with flags`,
      );
    }
    const state = stateOf(change.state, 'state');
    const expected = formatFlagState(stateOf(change.expected, 'expected'));
    const unavailable = (error: unknown) => {
      logFailure(`changing ${change.flag} of ${target.name}`, error);
      return new ConsoleRefusal(
        503,
        'flags-unavailable',
        `the flags of ${target.name} cannot be reached now (the console's output says why); retry`,
      );
    };
    let store: PostgresFlagStore;
    let defaultState: FlagState | undefined;
    let everSet: boolean;
    try {
      store = await this.stores.flagsOf(target.name);
      defaultState = (await store.declarations()).find((flag) => flag.name === change.flag)?.default;
      everSet = (await store.states()).some((flag) => flag.name === change.flag);
    } catch (error) {
      throw unavailable(error);
    }
    if (defaultState === undefined && !everSet) {
      throw new ConsoleRefusal(
        404,
        'flag-not-found',
        `no process of ${target.name} declares a flag ${change.flag}, and it was never set: check its name`,
      );
    }
    // Compared under the flag's lock, in the transaction that changes it: no change slips in between.
    const unchanged = (stored: FlagState | undefined) => {
      const now = stored ?? defaultState ?? FLAG_OFF;
      if (formatFlagState(now) === expected) return;
      throw new ConsoleRefusal(
        409,
        'changed-meanwhile',
        `${change.flag} is ${formatFlagState(now)} now, not ${expected} as the page showed: someone changed ` +
          `it meanwhile; look again`,
      );
    };
    const reason = change.reason ?? `ficus console: ${formatFlagState(state)}`;
    try {
      return await store.set(change.flag, state, change.by, reason, unchanged);
    } catch (error) {
      if (error instanceof ConsoleRefusal) throw error;
      throw unavailable(error);
    }
  }
}

/** A state as a person types it (on, off, 30, 30 %, percent 30); anything else is a 422. */
function stateOf(text: string, field: string): FlagState {
  try {
    return parseFlagState(text);
  } catch (error) {
    if (error instanceof FlagStateError) throw new ConsoleRefusal(422, 'invalid-state', `${field}: ${error.message}`);
    throw error;
  }
}

function logLine(change: FlagChange) {
  return {
    from: change.from ? formatFlagState(change.from) : null,
    to: formatFlagState(change.to),
    by: change.by,
    at: change.at.toISOString(),
    ...(change.reason ? { reason: change.reason } : {}),
  };
}
