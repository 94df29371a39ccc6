import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { SpanKind } from '@opentelemetry/api';
import { startTracing, tracingRecords, type TracingHandle } from '@infra/observability';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';

/** The spans of one trace as a tree check: one root, and every other span's parent is in it. */
function treeOf(spans: readonly ReadableSpan[], traceId: string) {
  const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
  const ids = new Set(inTrace.map((s) => s.spanContext().spanId));
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
  return {
    spans: inTrace,
    names: new Set(inTrace.map((s) => s.name)),
    roots: inTrace.filter((s) => !parentOf(s) || !ids.has(parentOf(s)!)),
    byName: (name: string) => inTrace.filter((s) => s.name === name),
    parentName: (s: ReadableSpan) => inTrace.find((p) => p.spanContext().spanId === parentOf(s))?.name,
  };
}

describe('one trace per order (monolith, in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle | undefined;
  let shop: RunningShop;

  beforeAll(async () => {
    tracing = startTracing('ficus-test', {}, exporter);
    shop = await startShop('tracing');
  });
  afterAll(async () => {
    await shop?.close();
    await tracing?.shutdown();
  });

  it('POST /orders and its whole saga are one trace, a tree with no orphan span, and the timeline names it', async () => {
    const customer = await new ShopClient(shop.baseUrl).signUp();
    exporter.reset();
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    expect((await customer.finalOrder(placed.body.orderId)).status).toBe('CONFIRMED');

    const post = exporter.getFinishedSpans().find((s) => s.name === 'POST /orders');
    expect(post).toBeDefined();
    const traceId = post!.spanContext().traceId;
    // The saga ends when inventory and notifications have both taken order-confirmed; a span is
    // exported when it ends, its parent a little later: wait for the tree to be whole.
    const tree = await eventually(() => treeOf(exporter.getFinishedSpans(), traceId), {
      until: (t) => t.byName('process ordering.order-confirmed').length === 2 && t.roots.length === 1,
      what: 'the saga spans are exported',
    });

    expect(tree.roots.map((s) => s.name)).toEqual(['POST /orders']);
    expect(post!.kind).toBe(SpanKind.SERVER);
    for (const name of [
      'payments.v1.PaymentsService/holdPaymentMethod',
      'ordering.v1.OrderingService/placeOrderWithPaymentMethod',
      'publish ordering.order-created',
      'process ordering.order-created',
      'process inventory.stock-reserved',
      'process payments.payment-completed',
      'process shipping.shipment-created',
      'transaction ordering',
      'transaction inventory',
    ]) {
      expect(tree.names).toContain(name);
    }
    // The contract call has a client side and a serving side, in one process as over gRPC.
    const placeOrder = tree.byName('ordering.v1.OrderingService/placeOrderWithPaymentMethod');
    expect(placeOrder.map((s) => s.kind).sort()).toEqual([SpanKind.INTERNAL, SpanKind.SERVER].sort());
    // An event written to the outbox is an event of the span of the transaction that wrote it, not
    // a span of its own; its publish hangs below what caused it: the call that placed the order.
    expect([...tree.names].filter((name) => name.startsWith('outbox '))).toEqual([]);
    const writes = tree
      .byName('transaction ordering')
      .flatMap((s) => s.events.map((event) => [event.name, event.attributes?.['ficus.context']]));
    expect(writes).toContainEqual(['outbox ordering.order-created', 'ordering']);
    expect(tree.byName('publish ordering.order-created').map((s) => tree.parentName(s))).toEqual([
      'ordering.v1.OrderingService/placeOrderWithPaymentMethod',
    ]);
    // Each consumer hangs below the publish of what it consumes.
    for (const consumed of tree.spans.filter((s) => s.name.startsWith('process '))) {
      expect(tree.parentName(consumed)).toBe(consumed.name.replace(/^process /, 'publish '));
    }

    const timeline = await customer.get<{ traceId: string }>(`/orders/${placed.body.orderId}/timeline`);
    expect(timeline.body.traceId).toBe(traceId);
  });

  it("does not continue a client's traceparent: the request starts its own trace and links the client's; a malformed one is dropped", async () => {
    const customer = await new ShopClient(shop.baseUrl).signUp();
    exporter.reset();
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    expect((await customer.get('/customers/me/orders')).status).toBe(200);
    const traced = await customer.request('GET', '/customers/me/orders', {
      headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` },
    });
    expect(traced.status).toBe(200);
    const bogus = await customer.request('GET', '/customers/me/orders', {
      headers: { traceparent: 'not-a-traceparent' },
    });
    expect(bogus.status).toBe(200);

    const spans = await eventually(
      () => exporter.getFinishedSpans().filter((s) => s.name === 'GET /customers/me/orders'),
      {
        until: (found) => found.length === 3,
      },
    );
    expect(spans.filter((s) => s.spanContext().traceId === callerTrace)).toEqual([]);
    expect(spans.filter((s) => s.parentSpanContext)).toEqual([]); // all three are roots
    const linked = spans.filter((s) => s.links.length > 0);
    expect(linked.map((s) => s.links.map((l) => [l.context.traceId, l.context.spanId]))).toEqual([
      [[callerTrace, callerSpan]],
    ]);
  });

  it('continues it when FICUS_HTTP_TRACEPARENT=continue says a trusted proxy in front sets it', async () => {
    const trusting = await startShop('tracing_continue', { env: { FICUS_HTTP_TRACEPARENT: 'continue' } });
    try {
      const customer = await new ShopClient(trusting.baseUrl).signUp();
      exporter.reset();
      const callerTrace = '5bf92f3577b34da6a3ce929d0e0e4737';
      const traced = await customer.request('GET', '/customers/me/orders', {
        headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
      });
      expect(traced.status).toBe(200);
      const spans = await eventually(
        () => exporter.getFinishedSpans().filter((s) => s.name === 'GET /customers/me/orders'),
        {
          until: (found) => found.length === 1,
        },
      );
      expect(spans[0].spanContext().traceId).toBe(callerTrace);
      expect(spans[0].parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    } finally {
      await trusting.close();
    }
  });
});

describe('no exporter configured (as shipped): trace context without spans', () => {
  let tracing: TracingHandle | undefined;
  let shop: RunningShop;

  beforeAll(async () => {
    tracing = startTracing('ficus-test', { OTEL_TRACES_EXPORTER: 'none' });
    shop = await startShop('tracing_propagate');
  });
  afterAll(async () => {
    await shop?.close();
    await tracing?.shutdown();
  });

  it("makes no span, yet every order still carries one trace id of its own, never the client's", async () => {
    expect(tracingRecords()).toBe(false);
    const customer = await new ShopClient(shop.baseUrl).signUp();
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const placed = await customer.request<{ orderId: string }>('POST', '/orders', {
      body: { items: [{ sku: 'FICUS-LYRATA', quantity: 1 }], paymentToken: 'tok_visa' },
      headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
    });
    expect(placed.status).toBe(202);
    expect((await customer.finalOrder(placed.body.orderId)).status).toBe('CONFIRMED');
    const traced = await customer.get<{ traceId: string }>(`/orders/${placed.body.orderId}/timeline`);
    expect(traced.body.traceId).toMatch(/^[\da-f]{32}$/);
    expect(traced.body.traceId).not.toBe(callerTrace);

    // Without a traceparent the request starts a trace of its own, a fresh id per order.
    const first = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    const second = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    const ids = await Promise.all(
      [first, second].map(
        async (order) =>
          (await customer.get<{ traceId: string }>(`/orders/${order.body.orderId}/timeline`)).body.traceId,
      ),
    );
    expect(ids[0]).toMatch(/^[\da-f]{32}$/);
    expect(ids[1]).toMatch(/^[\da-f]{32}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });
});
