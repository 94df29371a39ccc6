import { ContractError } from '@contracts/kernel';

/** PostgreSQL error classes that say "not now", not "never": connection, resources, shutdown, contention. */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[123]|40001|40P01|55P03)/;
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
const TRANSIENT_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /Connection terminated/i,
  /connection is closed/i,
  // node-postgres's client after its connection failed, TypeORM's query runner after its release:
  // the connection is gone, not the statement wrong.
  /is not queryable/i,
  /Query runner already released/i,
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
 * PostgreSQL refused a number past its column's range (22003): a quantity or amount a request
 * brought, alone or added to what it met, so the caller gets `invalid-argument`, not an internal
 * error. (A text past its column's length, 22001, is not one of these: every contract string has a
 * maximum, so it means the schema and the contract drifted apart, a bug.)
 */
export function isValueOutOfRange(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '22003';
}

/**
 * A failure that comes from what a message holds, the same on every delivery: PostgreSQL refused a
 * value (SQLSTATE class 22) or its nesting (class 54, a program limit), or JSON could not print it
 * (a RangeError). What the message holds is the cause, so it is dead-lettered, never delivered
 * again for ever.
 */
export function isContentFailure(error: unknown): boolean {
  if (error instanceof RangeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|54)/.test(code);
}
