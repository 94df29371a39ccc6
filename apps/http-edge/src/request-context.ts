import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import type { CallContext, Caller } from '@contracts/kernel';
import { requestSignal } from './admission/admission-gate';
import { RequestSettings, type RequestOptions } from './http-settings';
import { requestTraceparent } from './telemetry/http-telemetry';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The call context of an HTTP request: its id (from X-Request-Id or new), caller, deadline, and
 * the signal that aborts when its client goes away.
 */
@Injectable()
export class RequestContexts {
  /** How long the edge gives a request's contract calls (FICUS_REQUEST_BUDGET_MS). */
  readonly budgetMs: number;

  constructor(@Inject(RequestSettings.token) options: RequestOptions) {
    this.budgetMs = options.budgetMs;
  }

  of(request: Request & { caller?: Caller }): CallContext {
    const requestId = requestIdOf(request);
    return {
      requestId,
      correlationId: requestId,
      deadline: Date.now() + this.budgetMs,
      caller: request.caller,
      // Relayed only once the guard verified it: a service in another process verifies it again.
      credential: request.caller ? bearerTokenOf(request) : undefined,
      traceparent: requestTraceparent(request),
      signal: requestSignal(request),
    };
  }

  /**
   * For calls the edge makes on its own behalf (fetching keys). No signal: what they fetch is
   * shared by every request, so no one client's leaving may cancel it.
   */
  system(): CallContext {
    return { correlationId: randomUUID(), deadline: Date.now() + this.budgetMs };
  }
}

/**
 * The call context of a stream (a GraphQL subscription), which lives far longer than one
 * request's budget: each contract call made for it gets that budget from when the call starts.
 * The deadline is read when a call starts (a getter): the rest is `ctx`.
 */
export function streamCallContext(ctx: CallContext, budgetMs: number): CallContext {
  return Object.defineProperty({ ...ctx }, 'deadline', {
    get: () => Date.now() + budgetMs,
    enumerable: true,
  });
}

export function requestIdOf(request: Request): string {
  const given = request.headers['x-request-id'];
  if (typeof given === 'string' && REQUEST_ID.test(given)) {
    return given;
  }
  const generated = randomUUID();
  request.headers['x-request-id'] = generated;
  return generated;
}

export function bearerTokenOf(request: Request): string | undefined {
  return /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(request.headers.authorization ?? '')?.[1];
}
