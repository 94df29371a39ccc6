import type { z } from 'zod';
import { illFormedTextIn, invalidArgument } from '@contracts/kernel';

/**
 * The request of a contract call, parsed against its schema; a mismatch is the same typed
 * `invalid-argument/invalid-request` error whichever transport carries the call.
 */
export function checkRequest(schema: z.ZodType, request: unknown, what: string): unknown {
  const result = schema.safeParse(request);
  if (!result.success) {
    throw invalidArgument('invalid-request', `${what}: the request does not match the contract`, {
      issues: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }
  return result.data;
}

/**
 * A request from another process holds only text PostgreSQL can store: a NUL or an unpaired
 * surrogate is the caller's mistake (`invalid-argument/malformed-text`), as at the edge, not an
 * INSERT's internal error. Calls in one process come from code whose input the edge checked.
 */
export function checkRequestText(request: unknown, what: string): void {
  const where = illFormedTextIn(request, 'request');
  if (where !== undefined) {
    throw invalidArgument('malformed-text', `${what}: a string holds a NUL or is not well-formed Unicode`, {
      issues: [{ path: where, message: 'NUL or an unpaired surrogate' }],
    });
  }
}
