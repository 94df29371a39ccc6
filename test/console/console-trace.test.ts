import { drawableSpans } from '../../apps/cli/src/console/console-server';

/** What the console makes of the spans a process answers (its operations port's /traces/<id>). */
describe("the console's reading of a process's spans", () => {
  const span = {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    name: 'transaction ordering',
    kind: 'client',
    service: 'ficus-monolith',
    startMs: 1_000,
    durationMs: 2.5,
    error: false,
    attributes: {},
  };
  const events = (count: number) => Array.from({ length: count }, (_, at) => ({ name: `outbox e${at}`, atMs: 1_001 }));

  it('keeps 16 events of a span, each name 200 characters, and counts those it leaves out', () => {
    const [many] = drawableSpans([{ ...span, events: events(20), eventsNotKept: 100 }]);
    expect([many.events?.length, many.eventsNotKept]).toEqual([16, 104]);
    const [long] = drawableSpans([{ ...span, events: [{ name: 'x'.repeat(5_000), atMs: 1_001 }] }]);
    expect(long.events?.[0].name).toHaveLength(200);
    expect(long).not.toHaveProperty('eventsNotKept');
  });

  it('leaves out a span it could not draw, and keeps the others', () => {
    const drawn = drawableSpans([
      span,
      { ...span, spanId: 'c'.repeat(16), events: [{ name: 7, atMs: 1 }] },
      { ...span, spanId: 'd'.repeat(16), eventsNotKept: -3 },
      { ...span, spanId: 'e'.repeat(16), eventsNotKept: 'many' },
      { ...span, spanId: 'f'.repeat(16), startMs: 'soon' },
      null,
    ]);
    expect(drawn.map(({ spanId }) => spanId)).toEqual([span.spanId]);
    expect(drawableSpans({ spans: 'none' })).toEqual([]);
  });
});
