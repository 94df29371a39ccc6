import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { readProcessEnv } from '@infra/host';
import { runningServer } from './server-lock-file';
import { lives, ServerUsers } from './server-users';

/**
 * `npm run reset`: wipes the embedded database. A server that a killed shop left running, with
 * no process using it any more, is stopped first (fast shutdown). While a process still uses it
 * (a shop that is up), it refuses and names them: wiping under a live server corrupts nothing
 * useful but leaves a confusing half-state.
 */
async function reset(): Promise<void> {
  const dataDir = resolve(readProcessEnv().FICUS_DATA_DIR, 'postgres');
  const pid = runningServer(resolve(dataDir, 'cluster'));
  if (pid !== undefined) {
    // As a last user would stop it: a process that starts meanwhile waits for the stop, then
    // starts on fresh data (ServerUsers).
    const users = new ServerUsers(resolve(dataDir, 'server.users'));
    if (!users.leaveAsLast()) {
      users.stopped();
      process.stderr.write(
        `the embedded PostgreSQL (pid ${pid}) of ${dataDir} is still used by process ` +
          `${users.others().join(', ')}: stop the shop first (Ctrl-C), then run npm run reset again\n`,
      );
      process.exitCode = 1;
      return;
    }
    try {
      await stopped(pid);
    } finally {
      users.stopped();
    }
    process.stdout.write(`stopped the embedded PostgreSQL (pid ${pid}), which no process used any more\n`);
  }
  rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(`removed ${dataDir}\n`);
}

/** Fast shutdown (what `pg_ctl stop -m fast` sends), and its end awaited. */
async function stopped(pid: number): Promise<void> {
  process.kill(pid, 'SIGINT');
  const until = Date.now() + 60_000;
  while (lives(pid)) {
    if (Date.now() > until) throw new Error(`the embedded PostgreSQL (pid ${pid}) did not stop within 60 s`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

reset().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
