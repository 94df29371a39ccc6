import { AsyncResource } from 'node:async_hooks';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bulkhead, BulkheadRejectedError } from 'cockatiel';
import { httpRequestsInFlight, httpRequestsQueued, httpRequestsShed } from '@infra/observability';
import { problem } from '../problem/problem';
import { publicPathOf } from '../routing/canonical-path';

export interface AdmissionLimits {
  /** Requests served at once; the rest wait in the queue. */
  readonly maxConcurrent: number;
  /** Requests that may wait; beyond that a request is shed at once with 503 + Retry-After. */
  readonly maxQueued: number;
}

/** Probes and scrapes must answer even when the process is saturated: that is when they matter. */
const ALWAYS_ADMITTED = /^\/(health|ready|metrics)(\/|$)/;

/**
 * Load shedding at the edge. Past its capacity a process that keeps accepting work only makes
 * every request slower until they all time out; this gate serves `maxConcurrent` requests at once,
 * lets `maxQueued` more wait, and answers the rest at once with 503 + Retry-After, which costs
 * almost nothing. The queue is short on purpose: it absorbs bursts, and bounds how long an
 * admitted request waits, so admitted requests keep their latency under overload.
 */
export function admissionGate(limits: AdmissionLimits): RequestHandler {
  const gate = bulkhead(limits.maxConcurrent, limits.maxQueued);
  const measure = () => {
    httpRequestsInFlight.set(limits.maxConcurrent - gate.executionSlots);
    httpRequestsQueued.set(limits.maxQueued - gate.queueSlots);
  };

  return (request: Request, response: Response, next: NextFunction) => {
    if (ALWAYS_ADMITTED.test(request.path)) {
      next();
      return;
    }
    // A queued request is started by the bulkhead when another finishes: bind it to its own async
    // context, so that its logs and spans can never belong to the request that freed the slot
    // (defensive: a review reproduced the leak with cockatiel alone, not through HTTP).
    const proceed = AsyncResource.bind(() => next());
    const served = gate.execute(
      () =>
        new Promise<void>((done) => {
          measure();
          // A client that gave up while its request waited has nothing left to serve.
          if (response.destroyed || response.writableEnded) {
            done();
            return;
          }
          response.once('close', () => done());
          proceed();
        }),
    );
    measure();
    served.then(measure, (error: unknown) => {
      measure();
      if (!(error instanceof BulkheadRejectedError)) {
        next(error);
        return;
      }
      httpRequestsShed.inc();
      const body = problem(503, 'overloaded', 'the service is at capacity; retry shortly', { instance: publicPathOf(request) });
      response.setHeader('Retry-After', '1');
      response.status(503).type('application/problem+json').send(JSON.stringify(body));
    });
  };
}
