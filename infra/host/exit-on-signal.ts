import { constants } from 'node:os';

/**
 * Until a process has started what it runs, SIGINT or SIGTERM ends it through `process.exit`, with
 * the signal's exit code, so that the 'exit' hooks of what it started so far run (the embedded
 * PostgreSQL stops with it, ADR 0051); Node's default action would end it without them. Returns
 * the release, for when the process puts its own graceful stop in place.
 */
export function exitOnSignalUntilStarted(): () => void {
  const exit = (signal: NodeJS.Signals) => process.exit(128 + constants.signals[signal]);
  process.once('SIGINT', exit).once('SIGTERM', exit);
  return () => {
    process.off('SIGINT', exit).off('SIGTERM', exit);
  };
}
