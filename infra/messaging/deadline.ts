import { deadlineExceeded, type CallContext } from '@contracts/kernel';

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
 * Starts `work` only while the caller still waits (a call past its deadline must have no effect:
 * the caller may retry it), then settles with it or rejects with deadline-exceeded, whichever is first.
 */
export function withinDeadline<T>(ctx: CallContext, what: string, start: () => T | Promise<T>): Promise<T> {
  const left = ctx.deadline - Date.now();
  if (left <= 0) {
    return Promise.reject(deadlineExceeded('deadline-exceeded', `${what}: the caller's deadline had passed`));
  }
  let work: Promise<T>;
  try {
    work = Promise.resolve(start());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return new Promise<T>((resolve, reject) => {
    const cancel = onDeadline(ctx.deadline, () =>
      reject(deadlineExceeded('deadline-exceeded', `${what}: no answer within ${left} ms`)),
    );
    work.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
