import { deadlineExceeded, type CallContext } from '@contracts/kernel';

/** Settles with `work`, or rejects with deadline-exceeded when the call's deadline passes first. */
export function withinDeadline<T>(ctx: CallContext, what: string, work: Promise<T>): Promise<T> {
  const left = ctx.deadline - Date.now();
  if (left <= 0) {
    return Promise.reject(deadlineExceeded('deadline-exceeded', `${what}: the caller's deadline had passed`));
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(deadlineExceeded('deadline-exceeded', `${what}: no answer within ${left} ms`)),
      left,
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
