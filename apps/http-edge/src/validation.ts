import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { illFormedTextIn } from '@contracts/kernel';
import { problem, ProblemError, sendProblem } from './problem/problem';

export { illFormedTextIn, wellFormedText } from '@contracts/kernel';

/**
 * Parses a request part against a schema; a mismatch is a 400 (path, query) or 422 (body, or a
 * GraphQL mutation's input) problem.
 */
export function parseOr<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'input' | 'path' | 'query',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) {
    return result.data;
  }
  const errors = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const whole = where === 'body' || where === 'input';
  throw new ProblemError(
    problem(whole ? 422 : 400, whole ? 'validation-failed' : `invalid-${where}`, `the request ${where} is not valid`, {
      errors,
    }),
  );
}

/**
 * Text a shop stores is well-formed Unicode without NUL: PostgreSQL refuses both in `text`
 * (`invalid byte sequence`, `unsupported Unicode escape sequence`), so they must be refused here,
 * as the client's mistake (400 `malformed-text`), not met at an INSERT as a 500. Every string of
 * a JSON body counts, names of fields included; paths and query strings are checked by
 * `canonicalPaths`.
 */
export function wellFormedBodies(): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const where = illFormedTextIn(request.body as unknown, 'body');
    if (where === undefined) {
      next();
      return;
    }
    const body = problem(400, 'malformed-text', 'a string in the request holds a NUL or is not well-formed Unicode', {
      errors: [{ path: where, message: 'NUL or an unpaired surrogate' }],
    });
    sendProblem(response, body);
  };
}
