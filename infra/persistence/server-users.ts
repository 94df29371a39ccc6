import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The processes that use an embedded server, one file each in a folder beside its cluster (named
 * by the pid, holding the process's start time): whoever leaves last stops the server. A shop, a
 * `ficus` command beside it, a second shop on the same data: none stops the server under another,
 * and a server that a killed shop left running stops with the next process that used it.
 *
 * A process joins before it looks for the server, so that another one starting at the same time
 * sees it. It leaves before it counts the others, so that of two leaving at once at least one
 * sees none left and stops the server (both may: a second stop finds it down).
 */
export class ServerUsers {
  private readonly entry: string;

  constructor(private readonly dir: string) {
    this.entry = join(dir, String(process.pid));
  }

  /** This process uses the server from now on. */
  join(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(this.entry, startTimeOf(process.pid) ?? '', { mode: 0o600 });
  }

  /** This process no longer uses the server: true when no other living process does. */
  leave(): boolean {
    rmSync(this.entry, { force: true });
    return this.others().length === 0;
  }

  /** The other processes that use the server now; entries of processes that are gone are removed. */
  others(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.flatMap((name) => {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return [];
      if (lives(pid, readStartTime(join(this.dir, name)))) return [pid];
      rmSync(join(this.dir, name), { force: true });
      return [];
    });
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
function lives(pid: number, startTime: string | undefined): boolean {
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
export function startTimeOf(pid: number): string | undefined {
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
