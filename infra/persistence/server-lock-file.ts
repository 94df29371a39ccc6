import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lives } from './server-users';

/**
 * The embedded server's lock file (`postmaster.pid` in its cluster), as PostgreSQL writes it: the
 * server's pid on line 1, its start time (epoch seconds) on line 3, its port on line 4, its status
 * on line 8 (`ready` once it accepts connections). PostgreSQL creates it exclusively: of two
 * servers started on one cluster at once, one gets in and the other exits.
 */
export interface ServerLockFile {
  readonly pid: number;
  readonly startedAt: number;
  readonly port: number;
  readonly ready: boolean;
}

export function lockFileOf(clusterDir: string): string {
  return join(clusterDir, 'postmaster.pid');
}

/** What the cluster's lock file says; undefined when there is none (or it is being written). */
export function readLockFile(clusterDir: string): ServerLockFile | undefined {
  let lines: string[];
  try {
    lines = readFileSync(lockFileOf(clusterDir), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, startedAt: Number(lines[2]), port: Number(lines[3]), ready: lines[7]?.trim() === 'ready' };
}

/** The pid of the server the cluster's lock file names, while that process runs. */
export function runningServer(clusterDir: string): number | undefined {
  const pid = readLockFile(clusterDir)?.pid;
  return pid !== undefined && lives(pid) ? pid : undefined;
}
