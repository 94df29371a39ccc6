import type { z } from 'zod';
import { invalidArgument } from '@contracts/kernel';

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
