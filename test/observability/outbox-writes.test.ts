import { randomUUID } from 'node:crypto';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { Envelope } from '@contracts/kernel';
import { outboxInsert } from '@infra/messaging';
import { inSpan, SpanKind, startTracing, type TracingHandle } from '@infra/observability';

const CAUSE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const envelope = (type: string): Envelope => ({
  id: randomUUID(),
  type,
  version: 1,
  occurredAt: new Date().toISOString(),
  aggregateId: randomUUID(),
  correlationId: randomUUID(),
  traceparent: CAUSE,
  payload: {},
});

/** The traceparent column of the one row an INSERT writes. */
const traceparentOfRow = ({ params }: { params: unknown[] }) => params[6];

/**
 * An event written to the outbox is recorded as an event of the span of the transaction writing
 * it (ADR 0021 addendum), and only where no span is active (a timer's work) as a span of its own.
 */
describe('outbox writes in a trace', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle | undefined;
  beforeAll(() => {
    tracing = startTracing('ficus-test', {}, exporter);
  });
  afterAll(async () => {
    await tracing?.shutdown();
  });
  beforeEach(() => exporter.reset());

  it('inside a transaction: an event of its span, the row pointing at what caused the write', async () => {
    const written = envelope('ordering.order-created');
    const insert = await inSpan('transaction ordering', { kind: SpanKind.CLIENT, parent: CAUSE }, async () =>
      outboxInsert('ordering', 'outbox', [written]),
    );

    expect(traceparentOfRow(insert)).toBe(CAUSE);
    expect(insert.written).toEqual([written]);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['transaction ordering']);
    expect(spans[0].events.map((event) => [event.name, event.attributes])).toEqual([
      ['outbox ordering.order-created', { 'ficus.context': 'ordering', 'messaging.message.id': written.id }],
    ]);
  });

  it('with no span active: a producer span of its own, below the cause, and the row points at it', () => {
    const written = envelope('ordering.order-cancelled');
    const insert = outboxInsert('ordering', 'outbox', [written]);

    const [span] = exporter.getFinishedSpans();
    expect([span.name, span.kind, span.parentSpanContext?.spanId]).toEqual([
      'outbox ordering.order-cancelled',
      SpanKind.PRODUCER,
      CAUSE.split('-')[2],
    ]);
    const own = `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
    expect(traceparentOfRow(insert)).toBe(own);
    // What the process's dispatcher publishes hangs where the relay's would: below the row's traceparent.
    expect(insert.written).toEqual([{ ...written, traceparent: own }]);
  });
});
