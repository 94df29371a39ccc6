import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's CPU times (`getconf CLK_TCK`, 100 on Linux). */
export const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcessTicks {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime: CPU this process used itself, all its threads. */
  readonly own: number;
  /** cutime + cstime: CPU of its children that have exited and been waited for. */
  readonly reaped: number;
}

/** A process's CPU clock ticks from /proc/<pid>/stat; undefined when it is gone. */
export function ticksOf(pid: number): ProcessTicks | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name may hold spaces and parentheses: the fields start after its last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17
  const at = (field: number) => Number(fields[field - 3]);
  return { pid, ppid: at(4), own: at(14) + at(15), reaped: at(16) + at(17) };
}

/** Every process whose parent is `ppid` (PostgreSQL's backends and workers are the postmaster's children). */
export function childrenOf(ppid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ticks = ticksOf(Number(entry));
    if (ticks?.ppid === ppid) children.push(ticks.pid);
  }
  return children;
}

export function seconds(ticks: number): number {
  return ticks / CLOCK_TICKS_PER_SECOND;
}
