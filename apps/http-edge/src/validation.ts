import type { z } from 'zod';
import { problem, ProblemError } from './problem/problem';

/** Parses a request part against a schema; a mismatch is a 400 (path, query) or 422 (body) problem. */
export function parseOr<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'path' | 'query',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) {
    return result.data;
  }
  const errors = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const status = where === 'body' ? 422 : 400;
  throw new ProblemError(
    problem(status, where === 'body' ? 'validation-failed' : `invalid-${where}`, `the request ${where} is not valid`, {
      errors,
    }),
  );
}
