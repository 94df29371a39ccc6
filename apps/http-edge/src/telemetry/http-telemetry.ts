import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { context, SpanStatusCode } from '@opentelemetry/api';
import {
  httpRequestDuration,
  httpRequests,
  SpanKind,
  startSpan,
  traceIdsOf,
  tracingRecords,
  withLogFields,
} from '@infra/observability';

/** W3C trace context; anything else a client sends is dropped, never passed on. */
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

type TracedRequest = Request & { ficusTraceparent?: string };

/**
 * The server span and the RED metrics of every HTTP request: the span starts a trace of its own,
 * everything the request does runs inside it, and its traceparent is what the request's contract
 * calls carry on. A client's `traceparent` is not trusted (the edge is a trust boundary: a client
 * must not pick our trace ids or sampling): the span only links to it, unless
 * `FICUS_HTTP_TRACEPARENT=continue` says a trusted proxy in front sets it. Route patterns
 * (`/orders/:id`) name spans and label metrics; requests that matched no route are `unmatched`.
 */
export function httpTelemetry({ continueClientTraces }: { continueClientTraces: boolean }): RequestHandler {
  return (request: TracedRequest, response: Response, next: NextFunction) => {
    const started = performance.now();
    const given = request.headers.traceparent;
    const client = typeof given === 'string' && TRACEPARENT.test(given) ? given : undefined;
    const {
      span,
      traceparent,
      context: active,
    } = startSpan(request.method, {
      kind: SpanKind.SERVER,
      parent: continueClientTraces ? client : undefined,
      link: continueClientTraces ? undefined : client,
      attributes: { 'http.request.method': request.method, 'url.path': request.path },
      entry: true,
    });
    request.ficusTraceparent = traceparent;
    response.once('close', () => {
      const route = request.route?.path ? `${request.baseUrl}${String(request.route.path)}` : 'unmatched';
      // A client that went away before the answer was sent is counted as such, not as the 200 the
      // response object still holds.
      const status = response.writableFinished ? String(response.statusCode) : 'aborted';
      span.updateName(`${request.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': response.statusCode });
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      httpRequests.inc({ route, method: request.method, status });
      httpRequestDuration.observe({ route, method: request.method, status }, (performance.now() - started) / 1_000);
    });
    // Recorded spans are found through the active context; otherwise the request's lines carry its ids as fields.
    if (tracingRecords()) context.with(active, next);
    else withLogFields(traceIdsOf(traceparent), next);
  };
}

/** The traceparent a request's contract calls carry: its server span's. */
export function requestTraceparent(request: Request): string | undefined {
  return (request as TracedRequest).ficusTraceparent;
}
