import { randomUUID } from 'node:crypto';
import { CatalogContract, type CatalogApi } from '@contracts/catalog';
import { StockReserved } from '@contracts/inventory';
import type { Envelope } from '@contracts/kernel';
import { OrderFailed, OrderingContract } from '@contracts/ordering';
import { PaymentCompleted } from '@contracts/payments';
import { ShipmentCreated } from '@contracts/shipping';
import { OrderingModule } from '@modules/ordering';
// The sweeper itself, reached past the module's index on purpose: a test runs a sweep "later"
// instead of waiting for the deadline to pass.
import { SagaDeadlineSweeper } from '../../modules/ordering/src/application/expire-overdue-orders/saga-deadline.sweeper';
import { eventually } from '../support/eventually';
import { asCustomer, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

const DEADLINE_MS = 1_000;

class FakeCatalog implements CatalogApi {
  private readonly products = [{ sku: 'FIG-A', name: 'Fig A', price: { amountMinor: 1_000, currency: 'EUR' } }];
  async listProducts() {
    return { items: this.products, page: 1, pageSize: 20, total: this.products.length };
  }
  async getProducts(_ctx: unknown, request: { skus: string[] }) {
    return { products: this.products.filter((p) => request.skus.includes(p.sku)), missingSkus: [] };
  }
  async getProduct() {
    return this.products[0];
  }
}

describe('ordering: a saga past its deadline fails the order (the catalogue faked at its contract)', () => {
  let ordering: ModuleUnderTest;
  const failures: Envelope[] = [];
  const api = () => ordering.client(OrderingContract);
  const sweeper = () => ordering.app.get(SagaDeadlineSweeper);
  /** A sweep as it would run once every order placed so far is past its deadline. */
  const sweepLater = () => sweeper().sweep(new Date(Date.now() + DEADLINE_MS + 60_000));

  beforeAll(async () => {
    // Read by the module as it starts (Jest gives each test file its own process.env).
    process.env.FICUS_SAGA_DEADLINE_MS = String(DEADLINE_MS);
    ordering = await startModule('ordering_deadline', OrderingModule, [[CatalogContract, new FakeCatalog()]]);
    ordering.events.subscribe({
      consumer: 'test:spy:order-failed',
      eventKey: 'ordering.order-failed.v1',
      deliver: async (envelope) => {
        failures.push(envelope);
        return { outcome: 'processed' };
      },
    });
  });
  afterAll(() => ordering?.close());

  const place = async () =>
    (
      await api().placeOrderWithPaymentMethod(asCustomer('customer-1'), {
        customerId: 'customer-1',
        items: [{ sku: 'FIG-A', quantity: 1 }],
        paymentMethodId: randomUUID(),
      })
    ).orderId;
  const origin = (orderId: string) => ({ correlationId: orderId });
  const stockReserved = (orderId: string) =>
    StockReserved.create({ orderId, items: [{ sku: 'FIG-A', quantity: 1 }] }, origin(orderId));
  const paymentCompleted = (orderId: string) =>
    PaymentCompleted.create(
      { orderId, amount: { amountMinor: 1_000, currency: 'EUR' }, providerReference: 'r' },
      origin(orderId),
    );
  const shipmentCreated = (orderId: string) =>
    ShipmentCreated.create({ orderId, shipmentId: randomUUID(), trackingNumber: 'FC-1' }, origin(orderId));
  const streamOf = async (orderId: string) =>
    asAdmin<{ type: string; stream_version: number; correlation_id: string }>(
      ordering.database,
      'SELECT type, stream_version, correlation_id FROM ordering.order_events WHERE aggregate_id = $1 ORDER BY stream_version',
      [orderId],
    );

  it('fails an order left PENDING past the deadline, naming what it waited for, and announces it once', async () => {
    const orderId = await place();
    await ordering.events.publish([stockReserved(orderId)]);

    // The module's own timer: the order is overdue one sweep interval after its deadline at most.
    const order = await eventually(() => api().getOrder(asCustomer('customer-1'), { orderId }), {
      until: (o) => o.status !== 'PENDING',
      what: 'the sweeper fails the order',
    });
    expect(order).toMatchObject({
      status: 'FAILED',
      failureReason: 'saga-deadline-exceeded: waiting for payment, shipment',
    });

    const timeline = await api().getTimeline(asCustomer('customer-1'), { orderId });
    expect(timeline.steps.map((s) => s.step)).toEqual(['ORDER_CREATED', 'STOCK_RESERVED', 'ORDER_FAILED']);
    expect(timeline.steps[2].detail).toEqual({ reason: 'saga-deadline-exceeded: waiting for payment, shipment' });

    const history = await api().listCustomerOrders(asCustomer('customer-1'), { customerId: 'customer-1' });
    expect(history.items.find((i) => i.orderId === orderId)?.status).toBe('FAILED');

    const [created] = await streamOf(orderId);
    const announced = await eventually(() => failures.filter((f) => f.aggregateId === orderId), {
      until: (f) => f.length > 0,
    });
    expect(announced).toHaveLength(1);
    // The compensation it starts is correlated with the order's saga.
    expect(announced[0]).toMatchObject({ type: OrderFailed.type, correlationId: created.correlation_id });
  });

  it('ignores the facts that arrive after the order expired', async () => {
    const orderId = await place();
    await sweepLater();
    expect((await api().getOrder(asCustomer('customer-1'), { orderId })).status).toBe('FAILED');
    await ordering.events.publish([paymentCompleted(orderId)]);
    await ordering.events.publish([stockReserved(orderId)]);
    await ordering.events.publish([shipmentCreated(orderId)]);
    const order = await api().getOrder(asCustomer('customer-1'), { orderId });
    expect(order).toMatchObject({
      status: 'FAILED',
      failureReason: 'saga-deadline-exceeded: waiting for stock, payment, shipment',
    });
    expect((await streamOf(orderId)).map((e) => e.type)).toEqual(['ordering.order-created', 'ordering.order-failed']);
    expect(await ordering.registry.get('ordering')!.deadLetters.list()).toEqual([]);
  });

  it('leaves an order that reached its outcome in time alone', async () => {
    const orderId = await place();
    await ordering.events.publish([stockReserved(orderId)]);
    await ordering.events.publish([paymentCompleted(orderId)]);
    await ordering.events.publish([shipmentCreated(orderId)]);
    expect((await api().getOrder(asCustomer('customer-1'), { orderId })).status).toBe('CONFIRMED');
    expect(await sweepLater()).not.toContain(orderId);
    expect((await streamOf(orderId)).map((e) => e.type).at(-1)).toBe('ordering.order-confirmed');
  });

  it('fails each overdue order once when replicas sweep at the same time as saga steps arrive', async () => {
    const orderIds = await Promise.all(Array.from({ length: 8 }, () => place()));
    // Three sweeps (as if from three replicas) race each other and the orders' last saga steps.
    const [sweeps] = await Promise.all([
      Promise.all([sweepLater(), sweepLater(), sweepLater()]),
      ...orderIds.map((id) => ordering.events.publish([stockReserved(id), paymentCompleted(id)])),
    ]);
    // An order whose stream was busy then is left to the next sweep.
    await sweepLater();
    const expiredBySweeps = sweeps.flat();
    expect(new Set(expiredBySweeps).size).toBe(expiredBySweeps.length);
    for (const orderId of orderIds) {
      const stream = await streamOf(orderId);
      const failed = stream.filter((e) => e.type === 'ordering.order-failed');
      expect({ orderId, failed: failed.length }).toEqual({ orderId, failed: 1 });
      expect(stream.map((e) => e.stream_version)).toEqual(stream.map((_, i) => i + 1));
    }
  });
});
