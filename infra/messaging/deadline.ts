import { deadlineExceeded, type CallContext } from '@contracts/kernel';
import { callerStoppedWaiting, leaveRunning, onCallerAbort } from './caller-abort';

/** setTimeout's own ceiling (about 24.8 days); a longer wait would fire at once. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
/** Deadlines are watched in 5 ms buckets: one timer serves every call that ends in the same bucket. */
const BUCKET_MS = 5;

const buckets = new Map<number, Set<() => void>>();

function armBucket(bucket: number, expiries: Set<() => void>): void {
  const timer = setTimeout(
    () => {
      if (Date.now() < bucket) {
        armBucket(bucket, expiries); // a far deadline outlives one timer: wait again
        return;
      }
      buckets.delete(bucket);
      for (const expire of expiries) expire();
    },
    Math.min(Math.max(0, bucket - Date.now()), LONGEST_TIMER_MS),
  );
  timer.unref();
}

/**
 * Calls `expire` once `deadline` has passed (up to one bucket late); the returned function cancels.
 * A timer per call costs about as much as the rest of an in-process call; a shared bucket does not.
 */
export function onDeadline(deadline: number, expire: () => void): () => void {
  const bucket = Math.ceil(deadline / BUCKET_MS) * BUCKET_MS;
  let expiries = buckets.get(bucket);
  if (!expiries) {
    expiries = new Set();
    buckets.set(bucket, expiries);
    armBucket(bucket, expiries);
  }
  const set = expiries;
  set.add(expire);
  return () => set.delete(expire);
}

/**
 * Starts `work` only while the caller still waits (a call past its deadline, or whose signal has
 * aborted, must have no effect: the caller may retry it), then settles with it, or rejects with
 * deadline-exceeded or cancelled as soon as the caller stops waiting, whichever is first. Work the
 * caller stopped waiting for goes on to the end of its step (see `leaveRunning`).
 */
export function whileCallerWaits<T>(ctx: CallContext, what: string, start: () => T | Promise<T>): Promise<T> {
  const left = ctx.deadline - Date.now();
  if (left <= 0) {
    return Promise.reject(deadlineExceeded('deadline-exceeded', `${what}: the caller's deadline had passed`));
  }
  const { signal } = ctx;
  if (signal?.aborted) {
    return Promise.reject(callerStoppedWaiting(what));
  }
  let work: Promise<T>;
  try {
    work = Promise.resolve(start());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return new Promise<T>((resolve, reject) => {
    let stopWatching = onDeadline(ctx.deadline, () =>
      reject(deadlineExceeded('deadline-exceeded', `${what}: no answer within ${left} ms`)),
    );
    // Only a call that carries a signal watches it: most calls (events, sagas) have none.
    if (signal) {
      const stopDeadline = stopWatching;
      const stopAbortWatch = onCallerAbort(signal, () => {
        stopDeadline();
        leaveRunning(signal, work);
        reject(callerStoppedWaiting(what));
      });
      stopWatching = () => {
        stopDeadline();
        stopAbortWatch();
      };
    }
    work.then(
      (value) => {
        stopWatching();
        resolve(value);
      },
      (error: unknown) => {
        stopWatching();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
