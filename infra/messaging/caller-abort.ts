import { cancelled, type ContractError } from '@contracts/kernel';

/** The typed error of a call whose caller's signal aborted, in every transport alike. */
export function callerStoppedWaiting(what: string): ContractError {
  return cancelled('cancelled', `${what}: the caller stopped waiting`);
}

/** Per signal, what its calls in flight do when it aborts: one listener on the signal serves them all. */
const inFlight = new WeakMap<AbortSignal, Set<() => void>>();

/** Signals of CallerAbort: their calls in flight are told by `CallerAbort.abort()`, with no listener. */
const abortedByFicus = new WeakSet<AbortSignal>();

/**
 * The abort signal of a call that ficus itself ends when its caller goes away: a served gRPC
 * call's, an HTTP request's. The calls it carries are told by `abort()` directly, not through a
 * listener on the signal: an EventTarget listener costs 1–3 µs to add on Node 20 (well under one
 * on Node 24), once per served call or request here. Anything that listens on the signal itself
 * (an implementation's `addEventListener`) still sees it abort, first.
 */
export class CallerAbort {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;

  constructor() {
    abortedByFicus.add(this.signal);
  }

  abort(): void {
    if (this.signal.aborted) return;
    this.controller.abort();
    const stops = inFlight.get(this.signal);
    inFlight.delete(this.signal);
    for (const stop of stops ?? []) {
      try {
        stop();
      } catch (error) {
        // As an EventTarget reports a listener's error: the others are still told, and the owner
        // (the edge's admission gate) goes on to free the request's slot.
        process.nextTick(() => {
          throw error;
        });
      }
    }
  }
}

/**
 * Calls `stop` when `signal` (not aborted yet) aborts; the returned function stops watching. Each
 * signal gets one listener, on its first call, which serves every call it carries; later calls
 * only join a set. A CallerAbort's signal gets none: its `abort()` tells the set itself. An
 * EventTarget listener added and removed per call cost more (measured on the deadline and signal
 * check of an in-process call: +1.2–3 µs a call with a signal, against +0.7–1.2 µs so).
 */
export function onCallerAbort(signal: AbortSignal, stop: () => void): () => void {
  let stops = inFlight.get(signal);
  if (!stops) {
    const watched = new Set<() => void>();
    if (!abortedByFicus.has(signal)) {
      signal.addEventListener('abort', () => watched.forEach((each) => each()), { once: true });
    }
    inFlight.set(signal, watched);
    stops = watched;
  }
  stops.add(stop);
  const set = stops;
  return () => set.delete(stop);
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
