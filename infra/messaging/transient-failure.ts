import { ContractError } from '@contracts/kernel';

/** PostgreSQL error classes that say "not now", not "never": connection, resources, shutdown, contention. */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[123]|40001|40P01|55P03)/;
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
const TRANSIENT_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /Connection terminated/i,
  /connection is closed/i,
];

/**
 * Whether a failure may go away by itself (the database or a provider is briefly down, a lock
 * was lost) rather than fail the same way every time. A consumer never dead-letters a message for
 * a transient failure: it leaves it to be delivered again. Code marks its own such errors with
 * `transient = true`.
 */
export function isTransientFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { transient?: unknown; code?: unknown; message?: unknown; name?: unknown };
  if (e.transient === true) return true;
  if (error instanceof ContractError) return error.retryable;
  if (typeof e.code === 'string' && (TRANSIENT_SQLSTATE.test(e.code) || TRANSIENT_NODE_CODES.has(e.code))) return true;
  return typeof e.message === 'string' && TRANSIENT_MESSAGES.some((pattern) => pattern.test(e.message as string));
}

/**
 * PostgreSQL refused a value as too big for where it goes: a number past its column's range
 * (22003), a text past its length (22001). Values a request brought did it, with or without the
 * state they met: the caller gets `invalid-argument`, not an internal error.
 */
export function isValueOutOfRange(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '22003' || code === '22001';
}
