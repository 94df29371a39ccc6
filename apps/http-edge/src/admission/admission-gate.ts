import { AsyncResource } from 'node:async_hooks';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bulkhead, BulkheadRejectedError } from 'cockatiel';
import { CallerAbort, workLeftRunning } from '@infra/messaging';
import { httpRequestsInFlight, httpRequestsQueued, httpRequestsShed } from '@infra/observability';
import { problem, sendProblem } from '../problem/problem';
import { publicPathOf } from '../routing/canonical-path';
import { asksForStream, streamOf } from './stream-admission';

export interface AdmissionLimits {
  /** Requests served at once; the rest wait in the queue. */
  readonly maxConcurrent: number;
  /** Requests that may wait; beyond that a request is shed at once with 503 + Retry-After. */
  readonly maxQueued: number;
  /**
   * The longest a request whose client went away keeps its slot while its work ends: the request
   * budget (FICUS_REQUEST_BUDGET_MS), by when its contract calls have given up, as they would
   * have for a client that waited. It bounds a path that never answers once its client has gone.
   */
  readonly abortedHoldMs: number;
}

/**
 * Probes and scrapes must answer even when the process is saturated: that is when they matter.
 * The public API's port has only its liveness answer; a service's one port (its operations
 * port) has readiness and metrics too (`setUpHttpEdge`'s `probes`).
 */
export const PUBLIC_PROBES: readonly string[] = ['/health'];
export const OPERATIONS_PROBES: readonly string[] = ['/health', '/ready', '/metrics'];

type AdmittedRequest = Request & { ficusSignal?: AbortSignal };

/** The gate's two places in the edge's middleware: before the request's body is read, and after. */
export interface AdmissionGate {
  /**
   * Before the body: sheds a request at once, at the cost of its headers only, while every slot
   * and every place in the queue is taken. It takes nothing: the gate may be full again by the
   * time the body is in, and `admit` sheds it then.
   */
  readonly shedWhileFull: RequestHandler;
  /** Once the body is in: takes a slot, waits in the queue for one, or is shed. */
  readonly admit: RequestHandler;
}

/**
 * Load shedding at the edge. Past its capacity a process that keeps accepting work only makes
 * every request slower until they all time out; this gate serves `maxConcurrent` requests at once,
 * lets `maxQueued` more wait, and answers the rest at once with 503 + Retry-After, which costs
 * almost nothing. The queue is short on purpose: it absorbs bursts, and bounds how long an
 * admitted request waits, so admitted requests keep their latency under overload.
 *
 * A request takes its slot only once its body is in (`admit` comes after the body parser): a
 * client that sends its body slowly holds its own socket, not a slot. While the gate is full a
 * request is shed before its body is read (`shedWhileFull`), so shedding under overload still
 * costs no parsing.
 *
 * A slot is held until the request's work has ended, not until its socket closed: a client that
 * goes away aborts the request's signal (`requestSignal`, in every call context of the request),
 * and the slot stays taken until the work it started has ended. Otherwise a client that opens and
 * aborts requests would keep more work in flight than the gate admits.
 */
export function admissionGate(
  limits: AdmissionLimits,
  probes: readonly string[] = PUBLIC_PROBES,
  /** `measured: false`: a second gate of the process (the legacy upstream's) leaves the gauges to the first. */
  { measured = true }: { measured?: boolean } = {},
): AdmissionGate {
  const gate = bulkhead(limits.maxConcurrent, limits.maxQueued);
  // Exactly these paths, read by GET or HEAD: nothing under them, no other method, no body to
  // parse. Anything else past the gate would be work no one sheds (a flood of a path the port
  // does not serve still costs its rate-limit count).
  const probePaths = new Set(probes);
  const isProbe = (request: Request) =>
    (request.method === 'GET' || request.method === 'HEAD') && probePaths.has(request.path);
  const measure = () => {
    if (!measured) return;
    httpRequestsInFlight.set(limits.maxConcurrent - gate.executionSlots);
    httpRequestsQueued.set(limits.maxQueued - gate.queueSlots);
  };

  const shedWhileFull = (request: Request, response: Response, next: NextFunction) => {
    // A stream ask meets its own budget further on (`OpenStreams`), or `admit` where there is none.
    if (isProbe(request) || asksForStream(request) || gate.executionSlots > 0 || gate.queueSlots > 0) {
      next();
      return;
    }
    shedOverloaded(request, response);
  };

  const admit = (request: AdmittedRequest, response: Response, next: NextFunction) => {
    // A stream was admitted on its own budget (`OpenStreams`): it would hold a slot for minutes.
    if (isProbe(request) || streamOf(request)) {
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
          const abort = new CallerAbort();
          request.ficusSignal = abort.signal;
          response.once('close', () => {
            if (response.writableFinished) {
              done();
              return;
            }
            // The client went away before its answer: its calls stop waiting and start nothing
            // new, and the slot is free once what they had under way has ended.
            abort.abort();
            void workEnded(response, abort.signal, limits.abortedHoldMs).then(done);
          });
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
      shedOverloaded(request, response);
    });
  };
  return { shedWhileFull, admit };
}

/** Answers a request the process has no room for: 503 `overloaded` with Retry-After, counted as shed. */
export function shedOverloaded(request: Request, response: Response): void {
  httpRequestsShed.inc();
  const body = problem(503, 'overloaded', 'the service is at capacity; retry shortly', {
    instance: publicPathOf(request),
  });
  response.setHeader('Retry-After', '1');
  sendProblem(response, body);
}

/**
 * Aborts once the request's client has gone away before its answer was sent; in every call
 * context the edge makes for the request. A stream's aborts too when the process stops.
 * Undefined for requests no gate holds (`/health`, `/ready`, `/metrics`).
 */
export function requestSignal(request: Request): AbortSignal | undefined {
  return (request as AdmittedRequest).ficusSignal ?? streamOf(request)?.signal;
}

/**
 * Settles when the work of a request whose client went away has ended: the application has
 * answered it, into the closed socket (Nest does once the handler's promise settled, the problem
 * filter once it failed, a middleware once it refused), and the contract calls that stopped
 * waiting at the abort have settled too (`workLeftRunning`); or, should either never happen,
 * after `atMostMs`.
 */
function workEnded(response: Response, signal: AbortSignal, atMostMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const atMost = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, atMostMs);
    timer.unref(); // a slot of a process that is stopping frees nothing worth waiting for
  });
  return Promise.race([Promise.all([answered(response), workLeftRunning(signal)]), atMost]).then(() =>
    clearTimeout(timer),
  );
}

/**
 * Resolves once `response.end()` has been called. Node emits nothing for an end() on a response
 * whose socket is gone ('finish' never comes), so end() itself is watched, on this response only
 * and only once its client has left.
 */
function answered(response: Response): Promise<void> {
  if (response.writableEnded) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const end = response.end;
    response.end = function (this: Response, ...args: Parameters<Response['end']>) {
      resolve();
      return end.apply(this, args);
    } as Response['end'];
  });
}
