import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { acceptsConnections, freeLoopbackPort } from '@infra/deploy/local/tcp-port';
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
    const [port, operationsPort, databasePort] = [
      await freeLoopbackPort(),
      await freeLoopbackPort(),
      await freeLoopbackPort(),
    ];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      FICUS_OPERATIONS_PORT: String(operationsPort),
      FICUS_DATA_DIR: dataDir,
      FICUS_EMBEDDED_PG_PORT: String(databasePort),
      FICUS_RATE_LIMIT: 'off',
      LOG_LEVEL: 'warn',
    };
    delete env.DATABASE_URL;
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
    try {
      await eventually(
        async () => {
          if (shop.exitCode !== null) throw new Error(`the shop exited with ${shop.exitCode}:\n${output}`);
          expect((await fetch(`http://127.0.0.1:${operationsPort}/ready`)).status).toBe(200);
        },
        { timeoutMs: 90_000, intervalMs: 200, what: 'the shop ready on its embedded database' },
      );

      // Eight readers of the catalogue (a statement each) until the shop has gone.
      const statuses = new Map<number, number>();
      let running = true;
      const reader = async () => {
        while (running) {
          try {
            const answer = await fetch(`${baseUrl}/catalog/products?pageSize=20`);
            await answer.arrayBuffer();
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          } catch {
            // Refused or cut once the listener has closed: the request never reached a handler.
          }
        }
      };
      const readers = Array.from({ length: 8 }, reader);
      await eventually(() => statuses.get(200) ?? 0, { until: (ok) => ok >= 50, what: 'reads answered' });

      process.kill(-shop.pid!, 'SIGINT');
      const code = await exited;
      running = false;
      await Promise.all(readers);

      expect({ code, statuses: Object.fromEntries(statuses) }).toEqual({
        code: 0,
        statuses: { 200: expect.any(Number) },
      });
      expect(output).not.toMatch(/"level":50/);
      // The server went down after the shop, and cleanly: its lock file is gone with it.
      expect(await acceptsConnections('127.0.0.1', databasePort)).toBe(false);
      expect(existsSync(join(dataDir, 'postgres', 'cluster', 'postmaster.pid'))).toBe(false);
    } finally {
      if (shop.exitCode === null) shop.kill('SIGKILL');
    }
  }, 120_000);
});
