import { SpanKind, SpanStatusCode, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { defineSettings, wholeNumber } from '@infra/config';

/**
 * FICUS_TRACE_BUFFER: how many of its latest spans a process keeps in memory for `ficus console`
 * to show an order's trace without a tracing backend (0, the default: none kept, and no span is
 * made unless an exporter is set; tracing-setup.ts).
 */
export const TraceBufferSettings = defineSettings(
  'process: trace buffer',
  { FICUS_TRACE_BUFFER: wholeNumber({ min: 0, max: 20_000, default: 0, unit: 'spans' }) },
  (values) => ({ spans: values.FICUS_TRACE_BUFFER }),
);

/** One finished span as a process shows it: no attribute values beyond ficus's own seams' short ones. */
export interface KeptSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  /** The process's service name (`ficus-<target>`). */
  readonly service: string;
  /** Epoch milliseconds, with microseconds as the fraction. */
  readonly startMs: number;
  readonly durationMs: number;
  readonly error: boolean;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** Moments of the span (an event written to the outbox), when it has any: at most MAX_EVENTS. */
  readonly events?: ReadonlyArray<{ readonly name: string; readonly atMs: number }>;
  /** How many more it had: past MAX_EVENTS, or past the SDK's own limit (128 a span), which it counts. */
  readonly eventsNotKept?: number;
}

const KINDS: Record<SpanKind, KeptSpan['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};
/** What the ring keeps of a span: so many attributes and events, text cut at so many characters. */
export const KEPT_SPAN_LIMITS = { attributes: 16, events: 16, textLength: 200 } as const;
const { attributes: MAX_ATTRIBUTES, events: MAX_EVENTS, textLength: MAX_VALUE_LENGTH } = KEPT_SPAN_LIMITS;

/**
 * The latest spans this process finished, in a ring of fixed size: a span processor beside (or
 * instead of) an exporter, so the console can show an order's trace from the processes
 * themselves. The oldest span gives way to the newest; nothing grows with traffic. A span is
 * copied when it ends (a few fields, attributes capped in number and length), and a trace is found
 * by scanning the ring, which happens only when an operator asks.
 */
export class RecentSpans implements SpanProcessor {
  private readonly ring: Array<KeptSpan | undefined>;
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<KeptSpan | undefined>(capacity);
  }

  onStart(): void {
    // Nothing to do until the span ends.
  }

  onEnd(span: ReadableSpan): void {
    const { traceId, spanId } = span.spanContext();
    const service = span.resource.attributes['service.name'];
    this.ring[this.next] = {
      traceId,
      spanId,
      ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
      name: copyOf(span.name),
      kind: KINDS[span.kind] ?? 'internal',
      service: typeof service === 'string' ? service : 'unknown',
      startMs: millisOf(span.startTime),
      durationMs: millisOf(span.duration),
      error: span.status.code === SpanStatusCode.ERROR,
      attributes: shortAttributes(span.attributes),
      ...(span.events.length > 0
        ? {
            events: span.events
              .slice(0, MAX_EVENTS)
              .map((event) => ({ name: copyOf(event.name), atMs: millisOf(event.time) })),
          }
        : {}),
      ...eventsNotKept(span),
    };
    this.next = (this.next + 1) % this.capacity;
  }

  /** The spans of one trace still in the ring, oldest first. */
  trace(traceId: string): KeptSpan[] {
    return this.ring
      .filter((span): span is KeptSpan => span?.traceId === traceId)
      .sort((a, b) => a.startMs - b.startMs);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.ring.fill(undefined);
    return Promise.resolve();
  }
}

let kept: RecentSpans | undefined;

/** The ring of this process's latest spans, when it keeps one (FICUS_TRACE_BUFFER > 0). */
export function keptSpans(): RecentSpans | undefined {
  return kept;
}

/** Set by tracing-setup.ts as tracing starts and stops. */
export function keepSpansIn(ring: RecentSpans | undefined): void {
  kept = ring;
}

function millisOf([seconds, nanos]: HrTime): number {
  return seconds * 1_000 + Math.round(nanos / 1_000) / 1_000;
}

/**
 * At most MAX_VALUE_LENGTH characters of `text`, in a string of its own: a slice would keep the
 * whole original alive (a request's URL, chosen by whoever sent it) for as long as the ring does.
 */
function copyOf(text: string): string {
  return Buffer.from(text.slice(0, MAX_VALUE_LENGTH), 'utf8').toString('utf8');
}

function shortAttributes(attributes: ReadableSpan['attributes']): Record<string, string | number | boolean> {
  const short: Record<string, string | number | boolean> = {};
  let count = 0;
  for (const [key, value] of Object.entries(attributes)) {
    if (count === MAX_ATTRIBUTES) break;
    if (typeof value === 'string') short[key] = copyOf(value);
    else if (typeof value === 'number' || typeof value === 'boolean') short[key] = value;
    else continue;
    count++;
  }
  return short;
}

/** The events a span had beyond those kept, when it had any: a trace that says so is not read as whole. */
function eventsNotKept(span: ReadableSpan): { eventsNotKept?: number } {
  const notKept = Math.max(span.events.length - MAX_EVENTS, 0) + span.droppedEventsCount;
  return notKept > 0 ? { eventsNotKept: notKept } : {};
}
