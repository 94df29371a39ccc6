import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { problem, ProblemError } from './problem/problem';

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
    response.status(400).type('application/problem+json').send(JSON.stringify(body));
  };
}

/**
 * The path of the first ill-formed string (or name) in a parsed JSON value, if any. Walked with a
 * stack of its own, not by recursion: 64 kB of `[[[[…` nests deeper than the call stack goes.
 */
export function illFormedTextIn(value: unknown, path: string): string | undefined {
  const pending: Array<[unknown, string]> = [[value, path]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, at] = next;
    if (typeof item === 'string') {
      if (!wellFormedText(item)) return at;
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, inner] of Object.entries(item)) {
        if (!wellFormedText(key)) return at;
        pending.push([inner, `${at}.${key}`]);
      }
    }
  }
  return undefined;
}

// In a `u` regex a well-formed pair is one code point, so \p{Cs} meets only an unpaired surrogate.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const ILL_FORMED = /[\u0000\p{Cs}]/u;

export function wellFormedText(text: string): boolean {
  return !ILL_FORMED.test(text);
}
