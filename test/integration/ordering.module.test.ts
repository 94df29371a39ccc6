import { randomUUID } from 'node:crypto';
import { CatalogContract, type CatalogApi } from '@contracts/catalog';
import { StockReserved } from '@contracts/inventory';
import { unavailable } from '@contracts/kernel';
import { OrderingContract } from '@contracts/ordering';
import { PaymentCompleted } from '@contracts/payments';
import { ShipmentCreated } from '@contracts/shipping';
import { OrderingModule } from '@modules/ordering';
// The module's contract implementation, reached past its index on purpose (see the deadline test).
import { OrderingContractAdapter } from '../../modules/ordering/src/application/ordering.contract-adapter';
import { eventually } from '../support/eventually';
import { asAdminUser, asCustomer, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

/** The catalogue, faked at its contract: prices for two skus, and a switch to make it fail. */
class FakeCatalog implements CatalogApi {
  down = false;
  afterAnswer?: () => void;
  private readonly products = [
    { sku: 'FIG-A', name: 'Fig A', price: { amountMinor: 1_000, currency: 'EUR' } },
    { sku: 'FIG-B', name: 'Fig B', price: { amountMinor: 250, currency: 'EUR' } },
  ];
  async listProducts() {
    return { items: this.products, page: 1, pageSize: 20, total: this.products.length };
  }
  async getProducts(_ctx: unknown, request: { skus: string[] }) {
    if (this.down) throw unavailable('catalog-down', 'the catalogue is down');
    const answer = {
      products: this.products.filter((p) => request.skus.includes(p.sku)),
      missingSkus: request.skus.filter((sku) => !this.products.some((p) => p.sku === sku)),
    };
    this.afterAnswer?.();
    return answer;
  }
  async getProduct(_ctx: unknown, request: { sku: string }) {
    return this.products.find((p) => p.sku === request.sku)!;
  }
}

describe('ordering, alone on its database, the catalogue faked at its contract', () => {
  let ordering: ModuleUnderTest;
  const catalog = new FakeCatalog();
  const api = () => ordering.client(OrderingContract);

  beforeAll(async () => {
    ordering = await startModule('ordering', OrderingModule, [[CatalogContract, catalog]]);
  });
  afterAll(() => ordering?.close());

  // Payments holds the card; ordering takes the payment method's id as it comes (payments checks it).
  const items = [
    { sku: 'FIG-A', quantity: 2 },
    { sku: 'FIG-B', quantity: 1 },
  ];
  const place = (paymentMethodId: string = randomUUID()) =>
    api().placeOrderWithPaymentMethod(asCustomer('customer-1'), { customerId: 'customer-1', items, paymentMethodId });
  const storedEvents = (orderId: string) =>
    asAdmin<{ type: string; version: number; stream_version: number; payload: Record<string, unknown> }>(
      ordering.database,
      'SELECT type, version, stream_version, payload FROM ordering.order_events WHERE aggregate_id = $1 ORDER BY stream_version',
      [orderId],
    );

  it('prices an order from the catalogue and stores it as the first event of its stream, order-created v2 naming its payment method', async () => {
    const paymentMethodId = randomUUID();
    const { orderId } = await place(paymentMethodId);
    const order = await api().getOrder(asCustomer('customer-1'), { orderId });
    expect(order).toMatchObject({ status: 'PENDING', total: { amountMinor: 2_250, currency: 'EUR' }, version: 1 });
    const rows = await storedEvents(orderId);
    expect(rows.map(({ type, version, stream_version }) => ({ type, version, stream_version }))).toEqual([
      { type: 'ordering.order-created', version: 2, stream_version: 1 },
    ]);
    expect(rows[0].payload).toEqual({
      orderId,
      customerId: 'customer-1',
      items: expect.any(Array),
      total: { amountMinor: 2_250, currency: 'EUR' },
      paymentMethodId,
    });
  });

  it("still places an order through the released placeOrder, for the previous release's callers: order-created v1, as that release stored it", async () => {
    const { orderId } = await api().placeOrder(asCustomer('customer-1'), {
      customerId: 'customer-1',
      items,
      paymentToken: 'tok_visa',
    });
    const [created] = await storedEvents(orderId);
    expect({ type: created.type, version: created.version, paymentToken: created.payload.paymentToken }).toEqual({
      type: 'ordering.order-created',
      version: 1,
      paymentToken: 'tok_visa',
    });
    // The timeline shows the lines and the total, never how the order pays.
    const timeline = await api().getTimeline(asCustomer('customer-1'), { orderId });
    expect(timeline.steps[0]).toEqual({
      step: 'ORDER_CREATED',
      at: expect.any(String),
      detail: { items: expect.any(Array), total: { amountMinor: 2_250, currency: 'EUR' } },
    });
  });

  it('with an Idempotency-Key, the same lines and card (a new payment-method id, the same fingerprint) replay the order; another card is another request', async () => {
    const key = randomUUID();
    const withCard = (paymentFingerprint: string) =>
      api().placeOrderWithPaymentMethod(asCustomer('customer-1'), {
        customerId: 'customer-1',
        items,
        paymentMethodId: randomUUID(),
        paymentFingerprint,
        idempotencyKey: key,
      });
    const first = await withCard('card-a');
    await expect(withCard('card-a')).resolves.toEqual({ orderId: first.orderId, replayed: true });
    await expect(withCard('card-b')).rejects.toMatchObject({
      kind: 'failed-precondition',
      code: 'idempotency-key-reused',
    });
  });

  it('shows an order only to its customer or an admin, checking the caller itself', async () => {
    const { orderId } = await place(); // placed for customer-1
    const as = (subject: string, roles: string[]) => ({ ...callContext(), caller: { subject, roles } });
    await expect(api().getOrder(as('customer-1', ['customer']), { orderId })).resolves.toMatchObject({ id: orderId });
    await expect(api().getOrder(as('ops', ['admin']), { orderId })).resolves.toMatchObject({ id: orderId });
    // Another customer: the same answer as for an id that does not exist.
    await expect(api().getOrder(as('customer-2', ['customer']), { orderId })).rejects.toMatchObject({
      kind: 'not-found',
      code: 'order-not-found',
    });
    await expect(api().getTimeline(as('customer-2', ['customer']), { orderId })).rejects.toMatchObject({
      kind: 'not-found',
    });
    await expect(
      api().listCustomerOrders(as('customer-2', ['customer']), { customerId: 'customer-1' }),
    ).rejects.toMatchObject({
      kind: 'permission-denied',
    });
    await expect(
      api().placeOrder(as('customer-2', ['customer']), {
        customerId: 'customer-1',
        items: [{ sku: 'FIG-A', quantity: 1 }],
        paymentToken: 'tok_visa',
      }),
    ).rejects.toMatchObject({ kind: 'permission-denied', code: 'not-this-customer' });
    await expect(
      api().placeOrderWithPaymentMethod(as('customer-2', ['customer']), {
        customerId: 'customer-1',
        items: [{ sku: 'FIG-A', quantity: 1 }],
        paymentMethodId: randomUUID(),
      }),
    ).rejects.toMatchObject({ kind: 'permission-denied', code: 'not-this-customer' });
    // No end user at all — a process that dropped the token — is refused, not trusted.
    await expect(api().getOrder(callContext(), { orderId })).rejects.toMatchObject({
      kind: 'unauthenticated',
      code: 'end-user-required',
    });
    await expect(api().listCustomerOrders(callContext(), { customerId: 'customer-1' })).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
  });

  it('refuses unknown skus and stores nothing when the catalogue is down', async () => {
    await expect(
      api().placeOrderWithPaymentMethod(asCustomer('c'), {
        customerId: 'c',
        items: [{ sku: 'NOPE-1', quantity: 1 }],
        paymentMethodId: randomUUID(),
      }),
    ).rejects.toMatchObject({ kind: 'invalid-argument', code: 'unknown-sku' });
    const before = await asAdmin<{ n: string }>(ordering.database, 'SELECT count(*) AS n FROM ordering.order_events');
    catalog.down = true;
    try {
      await expect(place()).rejects.toMatchObject({ kind: 'unavailable', code: 'catalog-down' });
    } finally {
      catalog.down = false;
    }
    const after = await asAdmin<{ n: string }>(ordering.database, 'SELECT count(*) AS n FROM ordering.order_events');
    expect(after).toEqual(before);
  });

  it('places nothing when the caller runs out of time before the order commits', async () => {
    const before = await asAdmin<{ n: string }>(ordering.database, 'SELECT count(*) AS n FROM ordering.order_events');
    const deadline = Date.now() + 60_000;
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now');
    // The catalogue answers in time; by the moment the order would commit, the deadline is past.
    catalog.afterAnswer = () => clock.mockImplementation(() => realNow() + 120_000);
    try {
      // Through the module's own contract implementation, so the test awaits the handler itself
      // (a caller through the bus would stop waiting at the deadline while the handler goes on).
      const adapter = ordering.app.get(OrderingContractAdapter);
      await expect(
        adapter.placeOrderWithPaymentMethod(
          { correlationId: 'late', deadline, caller: { subject: 'c', roles: ['customer'] } },
          { customerId: 'c', items: [{ sku: 'FIG-A', quantity: 1 }], paymentMethodId: randomUUID() },
        ),
      ).rejects.toMatchObject({ kind: 'deadline-exceeded' });
    } finally {
      catalog.afterAnswer = undefined;
      clock.mockRestore();
    }
    const after = await asAdmin<{ n: string }>(ordering.database, 'SELECT count(*) AS n FROM ordering.order_events');
    expect(after).toEqual(before);
  });

  it('records saga steps arriving at once, in any order, as one gap-free stream that ends CONFIRMED', async () => {
    const { orderId } = await place();
    const origin = { correlationId: orderId };
    // Three events for one order delivered concurrently: appends race at the same version, the
    // losers hit the optimistic-concurrency check and their consumers retry on the fresh stream.
    await Promise.all([
      ordering.events.publish([
        ShipmentCreated.create({ orderId, shipmentId: randomUUID(), trackingNumber: 'FC-1' }, origin),
      ]),
      ordering.events.publish([
        PaymentCompleted.create(
          { orderId, amount: { amountMinor: 2_250, currency: 'EUR' }, providerReference: 'r' },
          origin,
        ),
      ]),
      ordering.events.publish([StockReserved.create({ orderId, items: [{ sku: 'FIG-A', quantity: 2 }] }, origin)]),
    ]);
    const order = await api().getOrder(asCustomer('customer-1'), { orderId });
    expect(order.status).toBe('CONFIRMED');
    const versions = await asAdmin<{ stream_version: number }>(
      ordering.database,
      'SELECT stream_version FROM ordering.order_events WHERE aggregate_id = $1 ORDER BY stream_version',
      [orderId],
    );
    expect(versions.map((v) => v.stream_version)).toEqual([1, 2, 3, 4, 5]);
    const history = await api().listCustomerOrders(asCustomer('customer-1'), { customerId: 'customer-1' });
    expect(history.items.find((i) => i.orderId === orderId)?.status).toBe('CONFIRMED');
  });

  it('publishes only its integration events; saga bookkeeping stays inside', async () => {
    const delivered: Array<{ type: string; aggregateId: string }> = [];
    for (const eventKey of ['ordering.order-created.v2', 'ordering.stock-reserved.v1']) {
      ordering.events.subscribe({
        consumer: `test:spy:${eventKey}`,
        eventKey,
        deliver: async (envelope) => void delivered.push({ type: envelope.type, aggregateId: envelope.aggregateId }),
      });
    }
    const { orderId } = await place();
    await ordering.events.publish([
      StockReserved.create({ orderId, items: [{ sku: 'FIG-A', quantity: 2 }] }, { correlationId: orderId }),
    ]);
    await eventually(() => delivered, { until: (d) => d.some((e) => e.aggregateId === orderId) });
    await ordering.registry.get('ordering')!.flushOutbox();
    expect(delivered.filter((e) => e.aggregateId === orderId)).toEqual([
      { type: 'ordering.order-created', aggregateId: orderId },
    ]);
    const stored = await asAdmin<{ type: string }>(
      ordering.database,
      'SELECT type FROM ordering.order_events WHERE aggregate_id = $1 AND published_at IS NOT NULL ORDER BY stream_version',
      [orderId],
    );
    expect(stored.map((r) => r.type)).toEqual(['ordering.order-created', 'ordering.stock-reserved']);
  });

  it('rebuilds the order-history read model by replaying every stream: what a corrupted projection lost comes back', async () => {
    const placed = [await place(), await place(), await place()];
    const readModel = () =>
      asAdmin<{ order_id: string; customer_id: string; status: string; total_minor: string; item_count: number }>(
        ordering.database,
        'SELECT order_id, customer_id, status, total_minor, item_count FROM ordering.order_history ORDER BY order_id',
      );
    const before = await eventually(readModel, {
      until: (rows) => placed.every(({ orderId }) => rows.some((row) => row.order_id === orderId)),
    });
    expect(before.length).toBeGreaterThanOrEqual(3);

    await asAdmin(
      ordering.database,
      "UPDATE ordering.order_history SET status = 'FAILED', total_minor = 0, item_count = 0",
    );
    await asAdmin(ordering.database, 'DELETE FROM ordering.order_history WHERE order_id = $1', [placed[1].orderId]);
    const rebuilt = await api().rebuildOrderHistory(asAdminUser(), {});

    expect(rebuilt.ordersProjected).toBe(before.length);
    expect(await readModel()).toEqual(before);
    await expect(api().rebuildOrderHistory(asCustomer('customer-1'), {})).rejects.toMatchObject({
      kind: 'permission-denied',
    });
  });
});
