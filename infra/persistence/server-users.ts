import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from './poll-until';

/**
 * The processes that use an embedded server, one entry each in a folder beside its cluster (named
 * by the pid, holding the process's start time): whoever leaves last stops the server. A shop, a
 * `ficus` command beside it, a second shop on the same data, the processes `npm run start:split`
 * launched: none has the server stopped under it, and a server that a killed shop left running
 * stops with the next process that used it.
 *
 * Joining and stopping are ordered so that no process starts using a server that is stopping:
 * - a process joins before it looks for the server, then waits while anyone is stopping it;
 * - a process about to stop it says so first (a `.stopping-<pid>` entry), then leaves, then
 *   counts the others, and stops the server only if none is left.
 * So either the stopper counts the joiner (and leaves the server running), or the joiner sees the
 * stopper's entry (and waits until the server is down, then starts one). Of two stopping at once,
 * at least one counts none and stops it; a second stop finds it down.
 */
export class ServerUsers {
  constructor(private readonly dir: string) {}

  /** `pid` (this process unless named: a process it launched) uses the server from now on. */
  join(pid = process.pid): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(this.dir, String(pid)), startTimeOf(pid) ?? '', { mode: 0o600 });
  }

  /** This process no longer uses the server (and will not stop it). */
  leave(): void {
    removeQuietly(join(this.dir, String(process.pid)));
  }

  /**
   * This process leaves; true when it was the last living user and must stop the server, then
   * call `stopped()`. Synchronous, for the `exit` hook too.
   */
  leaveAsLast(): boolean {
    const stopping = join(this.dir, `${STOPPING}${process.pid}`);
    try {
      writeFileSync(stopping, startTimeOf(process.pid) ?? '', { mode: 0o600 });
    } catch {
      // the folder is gone (the data was reset): nobody is left to tell
    }
    this.leave();
    if (this.others().length === 0) return true;
    removeQuietly(stopping);
    return false;
  }

  /** The server this process was the last user of is down (or failed to stop). */
  stopped(): void {
    removeQuietly(join(this.dir, `${STOPPING}${process.pid}`));
  }

  /** Resolves once no living process is stopping the server (at most `timeoutMs`). */
  async untilNoneStops(timeoutMs = 60_000): Promise<void> {
    await pollUntil(() => this.entries(STOPPING).length === 0, timeoutMs);
  }

  /** The other processes that use the server now. */
  others(): number[] {
    return this.entries('');
  }

  /** Living processes of the entries named `<prefix><pid>` (not this one); dead ones' entries are removed. */
  private entries(prefix: string): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.flatMap((name) => {
      if (!name.startsWith(prefix)) return [];
      const pid = Number(name.slice(prefix.length));
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return [];
      if (lives(pid, readStartTime(join(this.dir, name)))) return [pid];
      removeQuietly(join(this.dir, name));
      return [];
    });
  }
}

const STOPPING = '.stopping-';

/** Never throws: it runs in the `exit` hook, where a throw would skip the rest. */
function removeQuietly(entry: string): void {
  try {
    rmSync(entry, { force: true });
  } catch {
    // not ours to remove (another user's file): counted again next time
  }
}

function readStartTime(entry: string): string | undefined {
  try {
    return readFileSync(entry, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process still runs, and is the one that wrote the entry: on Linux its start time
 * tells it from a later process given the same pid, and a zombie (killed, not yet reaped) is gone.
 * Elsewhere a reused pid counts as alive: the server is then left running, as it was before.
 */
export function lives(pid: number, startTime?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it runs, under another user (a shop run as root beside one that is not).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = statOf(pid);
  if (!stat) return true;
  return stat.state !== 'Z' && (startTime === undefined || stat.startTime === startTime);
}

/** When a process started, in clock ticks after boot (Linux); undefined where /proc does not tell. */
function startTimeOf(pid: number): string | undefined {
  return statOf(pid)?.startTime;
}

function statOf(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTime: fields[19] };
  } catch {
    return undefined;
  }
}
