import { cancelled, type ContractError } from '@contracts/kernel';

/** The typed error of a call whose caller's signal aborted, in every transport alike. */
export function callerStoppedWaiting(what: string): ContractError {
  return cancelled('cancelled', `${what}: the caller stopped waiting`);
}

/** Per signal, the work its calls were still doing when it aborted. */
const leftRunning = new WeakMap<AbortSignal, Array<Promise<unknown>>>();

/**
 * Records work that goes on after its caller stopped waiting for it. An abort stops the waiting
 * and keeps new steps from starting, never a step half-way: a transaction under way commits or
 * rolls back as it would have, and what committed stays committed. So the work still holds what
 * it holds (a database connection, a lock) until it settles.
 */
export function leaveRunning(signal: AbortSignal, work: Promise<unknown>): void {
  const running = leftRunning.get(signal);
  if (running) running.push(work);
  else leftRunning.set(signal, [work]);
}

/**
 * Settles once every piece of work left running when `signal` aborted has settled, however. The
 * transports record it as the signal aborts (its listeners run before `abort()` returns), so the
 * owner of the signal asks right after aborting it: the HTTP edge, to hold a client's admission
 * slot until the work it started has really ended.
 */
export function workLeftRunning(signal: AbortSignal): Promise<void> {
  const running = leftRunning.get(signal);
  return running ? Promise.allSettled(running).then(() => undefined) : Promise.resolve();
}
