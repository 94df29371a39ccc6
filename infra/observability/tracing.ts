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
 * Spans at ficus's own seams (HTTP in, contract calls, database transactions, publish, consume;
 * an outbox write is an event of its transaction's span). ficus carries trace context itself, as
 * a W3C `traceparent` in every call context and every envelope, so a span's parent is always
 * explicit: the traceparent that came in. The same spans are made in one process and split, so
 * both modes show one trace of the same shape.
 *
 * Three modes (tracing-setup.ts sets them):
 * - `record`: an exporter takes the spans; every seam makes one (OpenTelemetry SDK).
 * - `propagate` (as shipped, no exporter set): spans nobody would ever see are not made. Only
 *   where work enters a process (`entry`: an HTTP request, a call from another process, an event
 *   delivered) does it get a span id of its own, drawn here without the SDK; everything within
 *   carries that traceparent on. Trace ids still reach every log line, every envelope and every
 *   order's timeline.
 * - `off` (OTEL_SDK_DISABLED=true, or no setup at all): traceparents pass through unchanged.
 */

export { SpanKind };

const propagator = new W3CTraceContextPropagator();
const tracer = () => trace.getTracer('ficus');

export type TracingMode = 'off' | 'propagate' | 'record';

let mode: TracingMode = 'off';
let recording = false;
/** Whether a trace this process begins is sampled (its traceparent's flag), in `propagate` mode. */
let rootSampled: (traceId: string) => boolean = () => true;

/**
 * `sampled` decides, in `propagate` mode, the sampled flag of a trace this process begins (the
 * configured sampler's root decision), so that processes that record follow it.
 */
export function setTracingMode(next: TracingMode, sampled: (traceId: string) => boolean = () => true): void {
  mode = next;
  recording = next === 'record';
  rootSampled = sampled;
}

/** Whether spans are recorded for an exporter: seams that only make spans skip their work otherwise. */
export function tracingRecords(): boolean {
  return recording;
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
  /**
   * Work enters the process here (an HTTP request, a call from another process, an event
   * delivered): in `propagate` mode too it gets a span id of its own, for the log lines it writes.
   */
  readonly entry?: boolean;
  /**
   * A context the span is linked to, not a child of: what a client outside the system sent. Its
   * trace is not continued (a client must not choose the trace ids, nor the sampling, of our
   * work), but a recorded span keeps the link to it.
   */
  readonly link?: string;
}

/**
 * Runs `work` in a new span, child of `options.parent`; `work` gets the span's own traceparent to
 * hand on downstream. A thrown error marks the span failed and is rethrown.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  work: (traceparent: string | undefined, span: Span) => Promise<T>,
): Promise<T> {
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
export async function inChildSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
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

const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Starts a span that the caller ends (HTTP requests end when the response does). */
export function startSpan(
  name: string,
  options: SpanOptions,
): { span: Span; traceparent: string | undefined; context: Context } {
  if (!recording) {
    const traceparent = mode === 'propagate' && options.entry ? childTraceparent(options.parent) : options.parent;
    return { span: NO_SPAN, traceparent, context: ROOT_CONTEXT };
  }
  const parent = contextOfTraceparent(options.parent);
  const linked = options.link ? trace.getSpanContext(contextOfTraceparent(options.link)) : undefined;
  const links = linked && trace.isSpanContextValid(linked) ? [{ context: linked }] : undefined;
  const span = tracer().startSpan(name, { kind: options.kind, attributes: options.attributes, links }, parent);
  const active = trace.setSpan(parent, span);
  return { span, traceparent: traceparentOfContext(active) ?? options.parent, context: active };
}

/**
 * Marks a moment of the active span (an event written to a transaction's outbox): a span event,
 * which costs a small part of a span of its own. False when no span is active (work a timer
 * started, with no transaction span to mark), and when spans are not recorded.
 */
export function markActiveSpan(name: string, attributes: Attributes): boolean {
  const active = recording ? trace.getActiveSpan() : undefined;
  active?.addEvent(name, attributes);
  return active !== undefined;
}

/** Trace and span ids of the active span, for log lines (`record` mode; see traceIdsOf otherwise). */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!recording) return undefined;
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * Trace and span ids of a traceparent, for the log lines of work that entered the process with it
 * when no span is recorded (`propagate` mode); nothing otherwise (`record` mode reads the active span).
 */
export function traceIdsOf(traceparent: string | undefined): { trace_id?: string; span_id?: string } {
  if (recording || !traceparent) return {};
  const match = TRACEPARENT.exec(traceparent);
  return match ? { trace_id: match[1], span_id: match[2] } : {};
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Random hex of `bytes` bytes, not all zero (a W3C id); Math.random, as OpenTelemetry's id generator draws them. */
function randomId(bytes: number): string {
  let id = '';
  for (let i = 0; i < bytes; i++) id += HEX[(Math.random() * 256) | 0];
  return /^0+$/.test(id) ? randomId(bytes) : id;
}

/** A traceparent for a new span: child of `parent` (same trace) or the root of a new trace. */
function childTraceparent(parent: string | undefined): string {
  const match = parent ? /^([\da-f]{2})-([\da-f]{32})-[\da-f]{16}-([\da-f]{2})$/.exec(parent) : null;
  if (match) return `${match[1]}-${match[2]}-${randomId(8)}-${match[3]}`;
  const traceId = randomId(16);
  return `00-${traceId}-${randomId(8)}-${rootSampled(traceId) ? '01' : '00'}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
