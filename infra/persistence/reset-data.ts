import { mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readProcessEnv } from '@infra/host';
import { lockedServerOf } from './embedded-database';
import { pollUntil } from './poll-until';
import { lockFileOf } from './server-lock-file';
import { lives, ServerUsers } from './server-users';

/**
 * `npm run reset`: wipes the embedded database. While a process uses it (a shop that is up, or
 * one starting), it refuses and names them. A server that a killed shop left running, used by no
 * process, is stopped first (fast shutdown).
 *
 * It stops and wipes as a last user stops the server (ServerUsers): it says so first, then counts
 * the users, and says it is done only once the data is gone. A process that starts meanwhile waits
 * for that, then starts on fresh data; one that started before is counted, and nothing is wiped.
 */
async function reset(): Promise<void> {
  const dataDir = resolve(readProcessEnv().FICUS_DATA_DIR, 'postgres');
  const usersDir = join(dataDir, 'server.users');
  mkdirSync(usersDir, { recursive: true, mode: 0o700 }); // where the stopper's mark goes
  const users = new ServerUsers(usersDir);
  if (!users.leaveAsLast()) {
    const others = users.others();
    users.stopped();
    process.stderr.write(
      `the embedded PostgreSQL of ${dataDir} is still used by ${others.length > 1 ? 'processes' : 'process'} ` +
        `${others.join(', ')}: stop the shop first (Ctrl-C), then run npm run reset again\n`,
    );
    process.exitCode = 1;
    return;
  }
  try {
    const server = await lockedServerOf(dataDir);
    if (server && !server.answers) {
      process.stderr.write(
        `the lock file ${lockFileOf(join(dataDir, 'cluster'))} names process ${server.pid}, which runs but does not ` +
          `answer as this cluster's server. If no shop runs, it was left behind (a machine or container ` +
          `restarted): remove it, then run npm run reset again\n`,
      );
      process.exitCode = 1;
      return;
    }
    if (server) {
      await untilServerExits(server.pid);
      process.stdout.write(`stopped the embedded PostgreSQL (pid ${server.pid}), which no process used any more\n`);
    }
    // Everything but the users' folder, which holds this process's mark until the data is gone.
    for (const name of readdirSync(dataDir)) {
      if (name !== 'server.users') rmSync(join(dataDir, name), { recursive: true, force: true });
    }
  } finally {
    users.stopped();
  }
  removeIfEmpty(usersDir); // a process that started meanwhile has its entry there
  removeIfEmpty(dataDir);
  process.stdout.write(`removed ${dataDir}\n`);
}

/** Fast shutdown (what `pg_ctl stop -m fast` sends), and its end awaited. */
async function untilServerExits(pid: number): Promise<void> {
  process.kill(pid, 'SIGINT');
  if (!(await pollUntil(() => !lives(pid), 60_000))) {
    throw new Error(`the embedded PostgreSQL (pid ${pid}) did not stop within 60 s`);
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty: in use
  }
}

reset().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
