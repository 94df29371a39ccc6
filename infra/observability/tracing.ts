import {
  context,
  defaultTextMapGetter,
  INVALID_SPAN_CONTEXT,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * Spans at ficus's own seams (HTTP in, contract calls, database transactions, outbox, publish,
 * consume). ficus carries trace context itself, as a W3C `traceparent` in every call context
 * and every envelope, so a span's parent is always explicit: the traceparent that came in. The
 * same spans are made in one process and split, so both modes show one trace of the same shape.
 * Without a tracer provider (tracing-setup.ts) every span is a no-op and the traceparent passes
 * through unchanged.
 */

export { SpanKind };

const propagator = new W3CTraceContextPropagator();
const tracer = () => trace.getTracer('ficus');

/**
 * Whether a tracer provider records spans in this process (startTracing). Without one, the seams
 * skip the span machinery entirely and hand the incoming traceparent on unchanged: a contract call
 * on the hot path pays nothing for tracing that is off.
 */
let recording = false;
export function setTracingRecording(on: boolean): void {
  recording = on;
}

/** The context a `traceparent` describes (or none: a new trace starts there). */
export function contextOfTraceparent(traceparent: string | undefined): Context {
  return traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
}

export function traceparentOfContext(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/** The trace id of a `traceparent` (`00-<trace id>-<span id>-<flags>`). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent)?.[1] : undefined;
}

export interface SpanOptions {
  readonly kind: SpanKind;
  /** The parent, as it travelled; undefined starts a new trace. */
  readonly parent: string | undefined;
  readonly attributes?: Attributes;
}

/**
 * Runs `work` in a new span, child of `options.parent`; `work` gets the span's own traceparent to
 * hand on downstream. A thrown error marks the span failed and is rethrown.
 */
export async function inSpan<T>(name: string, options: SpanOptions, work: (traceparent: string | undefined, span: Span) => Promise<T>): Promise<T> {
  const { span, traceparent, context: active } = startSpan(name, options);
  if (!recording) return work(traceparent, span);
  try {
    return await context.with(active, () => work(traceparent, span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
    span.recordException(error instanceof Error ? error : new Error(errorMessage(error)));
    throw error;
  } finally {
    span.end();
  }
}

/** Runs `work` in a new span, child of whatever span is active here (a database transaction). */
export async function inChildSpan<T>(name: string, kind: SpanKind, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  if (!recording) return work();
  const parent = context.active();
  if (!trace.getSpan(parent)) return work(); // nothing to hang it on: no trace of its own for it
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** Starts a span that the caller ends (HTTP requests end when the response does). */
export function startSpan(name: string, options: SpanOptions): { span: Span; traceparent: string | undefined; context: Context } {
  if (!recording) return { span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT), traceparent: options.parent, context: context.active() };
  const parent = contextOfTraceparent(options.parent);
  const span = tracer().startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
  const active = trace.setSpan(parent, span);
  return { span, traceparent: traceparentOfContext(active) ?? options.parent, context: active };
}

/** Trace and span ids of the active span, for log lines. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
