import type { Command } from 'commander';
import { hostname, userInfo } from 'node:os';
import { pino } from 'pino';
import { LoggingSettings } from '@infra/observability';
import {
  FlagStateError,
  formatFlagState,
  parseFlagState,
  PostgresFlagStore,
  type FlagChange,
  type FlagState,
  type StoredDeclaration,
  type StoredFlag,
} from '@infra/flags';
import { CliError, type CliCommand, type CliIo } from '../cli-command';
import { openDeploymentDatabase, withDeploymentOptions, type DeploymentSelection } from '../deployment-database';

interface StoreOptions extends DeploymentSelection {
  readonly json?: boolean;
}

const STORE_HELP = `
Which deployment's flags: by default those of the monolith as \`npm start\` runs it (DATABASE_URL,
or the embedded PostgreSQL under .data/, started for the command if it is down). Otherwise
--topology <file|monolith|split|hybrid> with --target <name> (the process whose flags they are:
each deploy target keeps its flags in its own database), or --database-url for any database.
Flags live in its schema "flags" (DATABASE_URL_FLAGS puts them elsewhere, for processes and
this command alike).`;

function withStoreOptions(command: Command): Command {
  return withDeploymentOptions(command, {
    databaseUrl: 'the database of the deployment (postgres://…), instead of finding it',
    target: 'the deploy target of that topology whose flags these are',
  });
}

/**
 * `ficus flags list | set | history`: the feature flags of a deployment (infra/flags, ADR 0028).
 * Changes reach every running process of that deployment without a restart.
 */
export const command: CliCommand = {
  name: 'flags',
  register(program, io) {
    const flags = program
      .command('flags')
      .description('show and change feature flags at run time, without a restart')
      .addHelpText(
        'after',
        `
A flag is on, off, or on for a percentage of subjects (customers, orders): each subject's bucket
(0-99) comes from SHA-256 of the flag's name and the subject, so one subject always gets the same
answer, and raising the percentage only adds subjects. Flags are declared in code with a default
and a description; every change is written to an append-only log (ficus flags history) and
picked up by the running processes at once (LISTEN/NOTIFY; a re-read every FICUS_FLAGS_REFRESH_MS,
5 s by default, catches anything missed).
${STORE_HELP}

Examples:
  ficus flags list
  ficus flags set notifications.new-confirmation-email 10
  ficus flags set notifications.new-confirmation-email on --reason "rolled out to everyone"
  ficus flags history notifications.new-confirmation-email --json
  ficus flags list --topology split --target notifications`,
      );

    withStoreOptions(flags.command('list'))
      .description('list the flags of a deployment: state, default, last change, description')
      .addHelpText(
        'after',
        `\nLists every flag the deployment's code declares and every flag that was ever set.\n${STORE_HELP}`,
      )
      .action((options: StoreOptions) => withStore(options, io, (store) => listFlags(store, options, io)));

    withStoreOptions(flags.command('set'))
      .description('set a flag to on, off or a percentage (0-100) of subjects; logged, and live at once')
      .argument('<name>', 'the flag, e.g. notifications.new-confirmation-email')
      .argument('<state...>', 'on | off | 0-100 (also "30%" or "percent 30")')
      .option('--by <who>', 'who makes the change, for the log (default: FICUS_ACTOR, else user@host)')
      .option('--reason <text>', 'why, for the log')
      .option('--force', 'set a flag that no process of the deployment declares (e.g. before its first start)')
      .addHelpText(
        'after',
        `
Examples: ficus flags set shipping.express-eta on | ficus flags set route.inventory 10
The change and who made it go to the change log in the same transaction; running processes of
the deployment apply it within moments and log it.
${STORE_HELP}`,
      )
      .action(
        (name: string, words: string[], options: StoreOptions & { by?: string; reason?: string; force?: boolean }) =>
          withStore(options, io, (store) => setFlag(store, name, words.join(' '), options, io)),
      );

    withStoreOptions(flags.command('history'))
      .description('show the change log of a flag, newest first: who, when, from → to')
      .argument('<name>', 'the flag')
      .option('--limit <n>', 'at most this many changes', '20')
      .addHelpText('after', STORE_HELP)
      .action((name: string, options: StoreOptions & { limit: string }) =>
        withStore(options, io, (store) => flagHistory(store, name, options, io)),
      );
  },
};

async function withStore(
  options: StoreOptions,
  io: CliIo,
  work: (store: PostgresFlagStore) => Promise<void>,
): Promise<void> {
  const deployment = await openDeploymentDatabase(options, io.env);
  try {
    let store: PostgresFlagStore;
    try {
      store = await PostgresFlagStore.open(deployment.config);
    } catch (error) {
      throw new CliError(
        `cannot open the flags of ${deployment.where}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    try {
      await work(store);
    } finally {
      await store.close();
    }
  } finally {
    await deployment.close();
  }
}

export interface FlagRow {
  readonly name: string;
  readonly state: FlagState;
  readonly default?: FlagState;
  readonly declared: boolean;
  readonly description?: string;
  readonly updatedAt?: Date;
  readonly updatedBy?: string;
}

async function listFlags(store: PostgresFlagStore, options: StoreOptions, io: CliIo): Promise<void> {
  const rows = mergeFlagRows(await store.declarations(), await store.states());
  if (options.json) {
    io.out(`${JSON.stringify(rows.map(flagJson), null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    io.out('no flags: no process of this deployment has declared one yet, and none was set\n');
    return;
  }
  const table = [
    ['FLAG', 'STATE', 'DEFAULT', 'LAST CHANGE'],
    ...rows.map((row) => [
      row.name,
      formatFlagState(row.state),
      row.default ? formatFlagState(row.default) : '(undeclared)',
      row.updatedAt ? `${row.updatedAt.toISOString()} by ${row.updatedBy}` : 'never set',
    ]),
  ];
  const widths = table[0].map((_, column) => Math.max(...table.map((line) => line[column].length)));
  const format = (line: string[]) =>
    line
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  const lines: string[] = [format(table[0])];
  rows.forEach((row, index) => {
    lines.push(format(table[index + 1]));
    if (row.description) lines.push(`  ${row.description}`);
  });
  io.out(`${lines.join('\n')}\n`);
}

/** Every flag declared or ever set, by name: its state (its default while never set). */
export function mergeFlagRows(declarations: StoredDeclaration[], states: StoredFlag[]): FlagRow[] {
  const byName = new Map<string, FlagRow>();
  for (const declared of declarations) {
    byName.set(declared.name, {
      name: declared.name,
      state: declared.default,
      default: declared.default,
      declared: true,
      description: declared.description,
    });
  }
  for (const stored of states) {
    const declared = byName.get(stored.name);
    byName.set(stored.name, {
      ...(declared ?? { name: stored.name, declared: false }),
      state: stored.state,
      updatedAt: stored.updatedAt,
      updatedBy: stored.updatedBy,
    });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function flagJson(row: FlagRow) {
  return {
    name: row.name,
    ...stateJson(row.state),
    default: row.default ? formatFlagState(row.default) : null,
    declared: row.declared,
    description: row.description ?? null,
    updatedAt: row.updatedAt?.toISOString() ?? null,
    updatedBy: row.updatedBy ?? null,
  };
}

function stateJson(state: FlagState): { state: string; percent?: number } {
  return state.kind === 'percent' ? { state: 'percent', percent: state.percent } : { state: state.kind };
}

async function setFlag(
  store: PostgresFlagStore,
  name: string,
  stateText: string,
  options: StoreOptions & { by?: string; reason?: string; force?: boolean },
  io: CliIo,
): Promise<void> {
  let state: FlagState;
  try {
    state = parseFlagState(stateText);
  } catch (error) {
    if (error instanceof FlagStateError) throw new CliError(error.message, 2);
    throw error;
  }
  if (!options.force) {
    const declared = await store.declarations();
    const known = new Set([...declared.map((d) => d.name), ...(await store.states()).map((s) => s.name)]);
    if (!known.has(name)) {
      const hint = declared.length
        ? `declared: ${declared.map((d) => d.name).join(', ')}`
        : 'no process has declared any flag here yet (has the deployment started once?)';
      throw new CliError(
        `no process of this deployment declares a flag "${name}" (${hint}); check the name, or pass --force ` +
          `to set it anyway`,
      );
    }
  }
  const by = options.by ?? actor(io.env);
  // The change is logged as a JSON line (on stderr, beside anything else the command says there),
  // by a logger made before the change: a LOG_LEVEL it refuses stops the command with nothing changed.
  let level: string;
  try {
    level = LoggingSettings.read(io.env).level;
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), 2);
  }
  const log = pino({ level }, { write: (line: string) => io.err(line) });
  let change: FlagChange;
  try {
    change = await store.set(name, state, by, options.reason);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  log.info(
    {
      flag: name,
      from: change.from ? formatFlagState(change.from) : null,
      to: formatFlagState(change.to),
      by,
      changeId: change.id,
      reason: change.reason,
    },
    'flag changed',
  );
  if (options.json) {
    io.out(`${JSON.stringify(changeJson(change), null, 2)}\n`);
    return;
  }
  io.out(
    `${name}: ${change.from ? formatFlagState(change.from) : 'unset'} → ${formatFlagState(change.to)} (change ` +
      `#${change.id} by ${by})\n`,
  );
}

async function flagHistory(
  store: PostgresFlagStore,
  name: string,
  options: StoreOptions & { limit: string },
  io: CliIo,
): Promise<void> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new CliError(`--limit takes a whole number of at least 1, not ${options.limit}`, 2);
  const changes = await store.history(name, limit);
  if (options.json) {
    io.out(`${JSON.stringify(changes.map(changeJson), null, 2)}\n`);
    return;
  }
  if (changes.length === 0) {
    io.out(`${name} was never changed\n`);
    return;
  }
  const lines = changes.map(
    (c) =>
      `#${c.id}  ${c.at.toISOString()}  ${c.from ? formatFlagState(c.from) : 'unset'} → ` +
      `${formatFlagState(c.to)}  by ${c.by}${c.reason ? `  (${c.reason})` : ''}`,
  );
  io.out(`${lines.join('\n')}\n`);
}

function changeJson(change: FlagChange) {
  return {
    id: change.id,
    name: change.name,
    from: change.from ? formatFlagState(change.from) : null,
    to: formatFlagState(change.to),
    ...stateJson(change.to),
    by: change.by,
    reason: change.reason ?? null,
    at: change.at.toISOString(),
  };
}

/** Who changes a flag: FICUS_ACTOR, else the login name (USER, else the passwd entry) at this host. */
export function actor(env: NodeJS.ProcessEnv): string {
  if (env.FICUS_ACTOR?.trim()) return env.FICUS_ACTOR.trim();
  let user = env.USER ?? env.USERNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown'; // no passwd entry (some containers)
    }
  }
  return `${user}@${hostname()}`;
}
