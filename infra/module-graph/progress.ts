import { join } from 'node:path';

/** The repository this code runs from: what ficus verify, graph and plan read by default. */
export const REPOSITORY_ROOT = join(__dirname, '..', '..');

export interface Progress {
  step(title: string): void;
  done(summary: string): void;
}

/**
 * Progress of a long command as lines on a stream of its own (`ficus graph: scraping 2
 * processes…`, then `✓ … (0.4 s)`), so that stdout stays the answer; silent when `quiet` (--json),
 * where a script reads stdout alone. Plain lines rather than a redrawn spinner: they read the same
 * in a terminal, a CI log and a test.
 */
export function progressLines(write: (text: string) => void, command: string, quiet: boolean): Progress {
  if (quiet) return { step: () => undefined, done: () => undefined };
  const started = performance.now();
  let stepStarted = started;
  let current: string | undefined;
  const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);
  const finish = () => {
    if (current) write(`  ✓ ${current} (${seconds(stepStarted)} s)\n`);
    current = undefined;
  };
  return {
    step(title) {
      finish();
      current = title;
      stepStarted = performance.now();
      write(`ficus ${command}: ${title}…\n`);
    },
    done(summary) {
      finish();
      write(`ficus ${command}: ${summary} in ${seconds(started)} s\n`);
    },
  };
}
