import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { acceptsConnections, freeLoopbackPorts } from '@infra/deploy/local/tcp-port';
import { eventually } from '../support/eventually';

/**
 * `npm start` without DATABASE_URL, stopped the way its user stops it: Ctrl-C in the terminal,
 * which sends SIGINT to every process of the foreground job at once.
 */
describe('Ctrl-C on the shop with its embedded PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ficus-test-ctrl-c-'));
  chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as its own user and must reach the folder
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('lets every request in flight finish on the database, exits 0, and stops the server after itself', async () => {
    const [port, operationsPort, databasePort] = await freeLoopbackPorts(3);
    const env: NodeJS.ProcessEnv = {
      // No DATABASE_URL nor DATABASE_URL_<CONTEXT> a developer may have set: the embedded server.
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DATABASE_URL'))),
      PORT: String(port),
      FICUS_OPERATIONS_PORT: String(operationsPort),
      FICUS_DATA_DIR: dataDir,
      FICUS_EMBEDDED_PG_PORT: String(databasePort),
      FICUS_RATE_LIMIT: 'off',
      LOG_LEVEL: 'warn',
    };
    // detached: a process group of its own, as a terminal gives its foreground job.
    const shop = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/monolith/src/main.ts'], {
      cwd: resolve(__dirname, '../..'),
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
    shop.stdout.on('data', keep);
    shop.stderr.on('data', keep);
    const exited = new Promise<number | null>((done) => shop.once('exit', (code) => done(code)));
    const baseUrl = `http://127.0.0.1:${port}`;
    let running = true;
    try {
      let ready = false;
      await Promise.race([
        eventually(async () => expect((await fetch(`http://127.0.0.1:${operationsPort}/ready`)).status).toBe(200), {
          timeoutMs: 90_000,
          intervalMs: 200,
          what: 'the shop ready on its embedded database',
        }).then(() => (ready = true)),
        exited.then((code) => {
          // Once it is ready, its exit is what the test awaits below, not a failure.
          if (!ready) throw new Error(`the shop exited with ${code} before it was ready:\n${output}`);
        }),
      ]);

      // Eight readers of the catalogue (a statement each) until the shop has gone.
      const statuses = new Map<number | string, number>();
      const count = (what: number | string) => statuses.set(what, (statuses.get(what) ?? 0) + 1);
      const reader = async () => {
        while (running) {
          try {
            const answer = await fetch(`${baseUrl}/catalog/products?pageSize=20`);
            await answer.arrayBuffer();
            count(answer.status);
          } catch (error) {
            count(String((error as { cause?: { code?: string } }).cause?.code ?? error));
            await new Promise((resolve) => setTimeout(resolve, 5)); // the port is closing: no busy loop
          }
        }
      };
      const readers = Array.from({ length: 8 }, reader);
      await eventually(() => statuses.get(200) ?? 0, { until: (ok) => ok >= 50, what: 'reads answered' });

      process.kill(-shop.pid!, 'SIGINT');
      const code = await exited;
      running = false;
      await Promise.all(readers);

      expect(code).toBe(0);
      // Every request that got an answer got its data. The others were refused once the listener
      // had closed, or met a keep-alive connection closing under them, before any handler ran.
      const answers = Object.fromEntries(statuses);
      expect(
        Object.keys(answers).filter((what) => !['200', 'ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(what)),
      ).toEqual([]);
      expect(output).not.toMatch(/"level":50/);
      // The server went down after the shop, and cleanly: its lock file is gone with it.
      expect(await acceptsConnections('127.0.0.1', databasePort)).toBe(false);
      expect(existsSync(join(dataDir, 'postgres', 'cluster', 'postmaster.pid'))).toBe(false);
    } finally {
      running = false;
      if (shop.exitCode === null) process.kill(-shop.pid!, 'SIGKILL');
      // A server the failed run left behind, in its own session: immediate shutdown.
      const lock = join(dataDir, 'postgres', 'cluster', 'postmaster.pid');
      if (existsSync(lock)) process.kill(Number(readFileSync(lock, 'utf8').split('\n')[0]), 'SIGQUIT');
    }
  }, 120_000);
});
