import {
  inSpan,
  keptSpans,
  SpanKind,
  startTracing,
  traceIdOf,
  TraceBufferSettings,
  tracingRecords,
  type TracingHandle,
} from '@infra/observability';

/**
 * FICUS_TRACE_BUFFER: a process keeps its latest spans in a ring of that many, for the console
 * to show an order's trace without a tracing backend; the oldest give way, nothing grows.
 */
describe('the spans a process keeps for the console', () => {
  let tracing: TracingHandle | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  /** One trace of `count` spans (a root and its children); its trace id. */
  const traceOf = async (name: string, count: number, attributes = {}): Promise<string> =>
    inSpan(`${name} root`, { kind: SpanKind.SERVER, parent: undefined, attributes }, async (traceparent) => {
      for (let child = 1; child < count; child += 1) {
        await inSpan(`${name} ${child}`, { kind: SpanKind.CLIENT, parent: traceparent }, async () => undefined);
      }
      return traceIdOf(traceparent)!;
    });

  it('keeps none and makes no span by default', () => {
    tracing = startTracing('ficus-test', {});
    expect([keptSpans(), tracingRecords()]).toEqual([undefined, false]);
  });

  it("keeps the latest spans of each trace, parents named, the oldest given way to the newest's", async () => {
    tracing = startTracing('ficus-test', { FICUS_TRACE_BUFFER: '5' });
    expect(tracingRecords()).toBe(true);
    const first = await traceOf('first', 3);
    const second = await traceOf('second', 3);

    // Six spans ended in a ring of five: the first trace's first child is gone, the rest stay.
    const ring = keptSpans()!;
    const kept = ring.trace(first);
    expect(kept.map((span) => span.name).sort()).toEqual(['first 2', 'first root']);
    const root = kept.find((span) => span.name === 'first root')!;
    expect(root).toMatchObject({ traceId: first, kind: 'server', service: 'ficus-test', error: false });
    expect(root.parentSpanId).toBeUndefined();
    expect(kept.find((span) => span.name === 'first 2')).toMatchObject({ kind: 'client', parentSpanId: root.spanId });
    expect(ring.trace(second).map((span) => span.name)).toEqual(['second root', 'second 1', 'second 2']);
    expect(ring.trace('0'.repeat(32))).toEqual([]);
  });

  it('marks failed spans, and keeps attributes short and few', async () => {
    tracing = startTracing('ficus-test', { FICUS_TRACE_BUFFER: '10' });
    const many = Object.fromEntries(
      Array.from({ length: 30 }, (_, at) => [`a${at}`, at === 0 ? 'x'.repeat(5_000) : at]),
    );
    const id = await traceOf('wide', 1, many);
    const [span] = keptSpans()!.trace(id);
    expect(Object.keys(span.attributes)).toHaveLength(16);
    expect(String(span.attributes.a0)).toHaveLength(200);

    let failed: string | undefined;
    await expect(
      inSpan('fails', { kind: SpanKind.INTERNAL, parent: undefined }, async (traceparent) => {
        failed = traceIdOf(traceparent);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(keptSpans()!.trace(failed!)).toEqual([expect.objectContaining({ name: 'fails', error: true })]);
  });

  it("keeps a span's events (an outbox write), few, with the moment of each", async () => {
    tracing = startTracing('ficus-test', { FICUS_TRACE_BUFFER: '10' });
    const id = await inSpan('writes', { kind: SpanKind.CLIENT, parent: undefined }, async (traceparent, span) => {
      for (let at = 0; at < 20; at += 1) span.addEvent(`outbox e${at}`, { 'messaging.message.id': `m${at}` });
      return traceIdOf(traceparent)!;
    });
    const [span] = keptSpans()!.trace(id);
    expect(span.events?.map((event) => event.name)).toEqual(Array.from({ length: 16 }, (_, at) => `outbox e${at}`));
    expect(span.eventsNotKept).toBe(4);
    for (const event of span.events!) {
      expect(event.atMs).toBeGreaterThanOrEqual(span.startMs);
      expect(event.atMs).toBeLessThanOrEqual(span.startMs + span.durationMs);
    }
    expect(keptSpans()!.trace(await traceOf('plain', 1))[0]).not.toHaveProperty('events');
    expect(keptSpans()!.trace(await traceOf('plain', 1))[0]).not.toHaveProperty('eventsNotKept');
  });

  it('counts the events the SDK itself dropped past its limit of a span', async () => {
    tracing = startTracing('ficus-test', { FICUS_TRACE_BUFFER: '10' });
    const id = await inSpan('writes a lot', { kind: SpanKind.CLIENT, parent: undefined }, async (traceparent, span) => {
      for (let at = 0; at < 200; at += 1) span.addEvent(`outbox e${at}`);
      return traceIdOf(traceparent)!;
    });
    const [span] = keptSpans()!.trace(id);
    expect([span.events?.length, span.eventsNotKept]).toEqual([16, 200 - 16]);
  });

  it('forgets them when tracing stops, and refuses a buffer that is no count', async () => {
    const stopping = startTracing('ficus-test', { FICUS_TRACE_BUFFER: '3' });
    expect(keptSpans()?.capacity).toBe(3);
    await stopping?.shutdown();
    expect(keptSpans()).toBeUndefined();
    for (const value of ['lots', '-1', '2.5', '20001']) {
      expect([value, 'issues' in TraceBufferSettings.parse({ FICUS_TRACE_BUFFER: value })]).toEqual([value, true]);
    }
  });
});
