import type { Response } from 'express';
import { ContractError, type ErrorKind } from '@contracts/kernel';

/** An RFC 9457 problem body, with ficus's stable `code` for programs to switch on. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: Array<{ path: string; message: string }>;
  [extension: string]: unknown;
}

export const PROBLEM_TYPE_BASE = 'https://ficus.dev/problems/';

const STATUS_OF_KIND: Record<ErrorKind, number> = {
  'invalid-argument': 422,
  'not-found': 404,
  conflict: 409,
  'failed-precondition': 422,
  unauthenticated: 401,
  'permission-denied': 403,
  'resource-exhausted': 429,
  unavailable: 503,
  'deadline-exceeded': 504,
  // nginx's "client closed request": the client went away, so it never reads this status; the
  // edge's logs and metrics do (as `aborted`), and it is no server error.
  cancelled: 499,
  internal: 500,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem {
  return { type: `${PROBLEM_TYPE_BASE}${code}`, title: TITLES[status] ?? 'Error', status, detail, code, ...extra };
}

/** Answers with `body`: its status, as application/problem+json. */
export function sendProblem(response: Response, body: Problem): void {
  response.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/** The problem a typed contract error becomes at the HTTP edge. */
export function problemOfContractError(error: ContractError): Problem {
  const status = STATUS_OF_KIND[error.kind];
  const issues = (error.details as { issues?: Problem['errors'] }).issues;
  // Internal errors carry no detail to the client: the log has it, keyed by the request id.
  const detail = status === 500 ? 'the request failed on our side' : error.message;
  const retryAfter = (error.details as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return problem(status, error.code, detail, {
    ...(issues ? { errors: issues } : {}),
    ...(typeof retryAfter === 'number' ? { retryAfterSeconds: retryAfter } : {}),
  });
}

/** An error the edge raises itself, before or after a contract call. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}
