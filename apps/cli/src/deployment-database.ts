import type { Command } from 'commander';
import { databaseOf, type DatabaseConfig } from '@infra/persistence';
import { readProcessEnv, resolveDatabase } from '@infra/host';
import { given } from '@infra/config';
import { loadTopology, SHIPPED_TOPOLOGIES, shippedTopologyPath, type DeployTarget } from '@infra/topology';
import { CliError } from './cli-command';

/** How a command is told which deployment it acts on. */
export interface DeploymentSelection {
  /** A server and database, as DATABASE_URL would give it; wins over the rest. */
  readonly databaseUrl?: string;
  /** A topology file, or the name of a shipped one (monolith, split, hybrid). */
  readonly topology?: string;
  /** The deploy target of that topology; may be left out when it has one target only. */
  readonly target?: string;
}

/**
 * The options that choose a deployment's database (a DeploymentSelection) and --json, on a
 * command that acts on one; `describe` says, in the command's words, which database and which
 * target they choose.
 */
export function withDeploymentOptions(
  command: Command,
  describe: { readonly databaseUrl: string; readonly target: string },
): Command {
  return command
    .option('--database-url <url>', describe.databaseUrl)
    .option(
      '--topology <file>',
      'a topology YAML file, or a shipped one: monolith, split, hybrid (default: FICUS_TOPOLOGY)',
    )
    .option('--target <name>', describe.target)
    .option('--json', 'print JSON instead of text');
}

export interface DeploymentDatabase {
  readonly config: DatabaseConfig;
  /** For messages: which database this is, and why. */
  readonly where: string;
  /** Stops the embedded PostgreSQL if this command had to start it. */
  close(): Promise<void>;
}

const POOL_SIZE = 3;

/**
 * The database a deployment keeps its own state in (its flags, among others), found the way the
 * deployment's processes find it:
 * - `--database-url`: that database, as is;
 * - `--topology` (+ `--target`): the target's database as apps/service/src/run-target.ts picks it:
 *   `database.name` on the shared server, the shared database for a one-target topology or a
 *   target whose modules have a URL of their own (`database.url`: their schemas live there, the
 *   process's own state stays on the shared server), `<prefix>_edge` for a gateway without modules;
 * - nothing: what `npm start` uses, DATABASE_URL or the embedded PostgreSQL under FICUS_DATA_DIR
 *   (started for the command if it is not running, and stopped again afterwards).
 */
export async function openDeploymentDatabase(
  selection: DeploymentSelection,
  env: NodeJS.ProcessEnv,
  /** A tool beside a running shop (the console): use its embedded PostgreSQL only if it runs, never start it. */
  options: { readonly onlyIfRunning?: boolean } = {},
): Promise<DeploymentDatabase> {
  if (selection.databaseUrl) {
    const url = selection.databaseUrl;
    let database: string;
    try {
      database = databaseOf(url);
    } catch {
      throw new CliError(
        `--database-url ${JSON.stringify(withoutPassword(url))} is no URL: ` +
          'give postgres://user:password@host:port/database',
      );
    }
    return {
      config: {
        adminUrl: url,
        database,
        contextUrls: {},
        roleSecret:
          given(env.FICUS_DB_ROLE_SECRET) ?? (decodeURIComponent(new URL(url).password) || 'ficus-development-only'),
        poolSize: POOL_SIZE,
      },
      where: `database ${database} on ${hostOf(url)} (--database-url)`,
      close: async () => undefined,
    };
  }
  if (selection.target && !selection.topology && !given(env.FICUS_TOPOLOGY)) {
    throw new CliError(
      '--target needs a topology: give --topology <file|monolith|split|hybrid> (or set FICUS_TOPOLOGY)',
    );
  }
  const topologyPath = topologyPathOf(selection.topology ?? given(env.FICUS_TOPOLOGY));
  const target = topologyPath ? targetOf(topologyPath, selection.target, env) : undefined;

  let processEnv;
  try {
    processEnv = readProcessEnv(env);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  const resolved = await resolveDatabase(processEnv, undefined, options.onlyIfRunning);
  const shared = { ...resolved.config, poolSize: POOL_SIZE };
  const server = hostOf(shared.adminUrl);
  if (!target) {
    return {
      config: shared,
      where:
        `database ${shared.database} on ${server} ` +
        `(${processEnv.DATABASE_URL ? 'DATABASE_URL' : 'the embedded PostgreSQL of npm start'})`,
      close: () => resolved.stop(),
    };
  }
  const database = targetDatabase(target, shared, env);
  return {
    config: { ...shared, database },
    where: `database ${database} on ${server} (target ${target.name} of ${topologyPath})`,
    close: () => resolved.stop(),
  };
}

export function topologyPathOf(topology: string | undefined): string | undefined {
  if (!topology) return undefined;
  return (SHIPPED_TOPOLOGIES as readonly string[]).includes(topology)
    ? shippedTopologyPath(topology as (typeof SHIPPED_TOPOLOGIES)[number])
    : topology;
}

function targetOf(path: string, name: string | undefined, env: NodeJS.ProcessEnv): DeployTarget {
  let topology;
  try {
    topology = loadTopology(path, { env });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  const names = topology.targets.map((t) => t.name);
  if (!name) {
    if (topology.targets.length === 1) return topology.targets[0];
    throw new CliError(
      `topology ${topology.name} has ${names.length} targets: say which with --target (${names.join(', ')})`,
    );
  }
  if (!names.includes(name)) {
    throw new CliError(`topology ${topology.name} has no target "${name}"; its targets: ${names.join(', ')}`);
  }
  return topology.target(name);
}

/** Mirrors databaseOf / edgeDatabaseOf of apps/service/src/run-target.ts. */
function targetDatabase(target: DeployTarget, shared: DatabaseConfig, env: NodeJS.ProcessEnv): string {
  if (target.modules.length === 0) return `${given(env.FICUS_DATABASE_PREFIX) ?? 'ficus'}_edge`;
  return target.database.kind === 'name' ? target.database.name : shared.database;
}

function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.port ? `${parsed.hostname}:${parsed.port}` : parsed.hostname;
  } catch {
    return 'an unreadable URL';
  }
}

/**
 * A database URL as the command may print it: its password (everything from the user's colon to
 * the last `@`, so that an unescaped `@` or `/` in it hides too) as `***`. Also for text that is no
 * URL, which is when a typo makes the command print it.
 */
export function withoutPassword(url: string): string {
  return url.replace(/\/\/([^:/@]*):.*@/, '//$1:***@');
}
