import { ContractBus, InProcessEventTransport } from '@infra/messaging';
import { OrderingContract } from '@contracts/ordering';
import type { Envelope } from '@contracts/kernel';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

describe('the order saga (monolith)', () => {
  let shop: RunningShop;
  let client: ShopClient;
  let customer: ShopClient & { customerId: string };

  beforeAll(async () => {
    shop = await startShop('saga');
    client = new ShopClient(shop.baseUrl);
    customer = await client.signUp();
  });
  afterAll(() => shop?.close());

  const chargesFor = async (orderId: string) =>
    Number(
      (
        await asAdmin<{ n: string }>(
          shop.database,
          'SELECT count(*) AS n FROM payments.fake_provider_charges WHERE idempotency_key = $1',
          [`order:${orderId}`],
        )
      )[0].n,
    );

  it('when the payment is declined, then the stock is released and the order FAILED, with no shipment', async () => {
    const before = await client.stock('FICUS-BENJAMINA');
    const placed = await customer.placeOrder([{ sku: 'FICUS-BENJAMINA', quantity: 2 }], 'tok_decline');
    expect(placed.status).toBe(202);

    const order = await customer.finalOrder(placed.body.orderId);
    expect(order).toMatchObject({ status: 'FAILED', failureReason: 'payment-failed' });

    const timeline = await customer.get<{ steps: Array<{ step: string }> }>(`/orders/${order.id}/timeline`);
    expect(timeline.body.steps.map((s) => s.step)).toEqual([
      'ORDER_CREATED',
      'STOCK_RESERVED',
      'PAYMENT_FAILED',
      'STOCK_RELEASED',
      'ORDER_FAILED',
    ]);
    expect(await client.stock('FICUS-BENJAMINA')).toEqual(before);
    const details = await customer.get<{
      shipment: { available: boolean; reason: string };
      payment: { value: { status: string } };
    }>(`/orders/${order.id}/details`);
    expect(details.body.shipment).toEqual({ available: false, reason: 'shipment-not-found' });
    expect(details.body.payment.value.status).toBe('FAILED');
    await eventually(() => customer.get<{ items: Array<{ orderId: string; subject: string }> }>('/notifications'), {
      until: (n) => n.body.items.some((m) => m.orderId === order.id && /could not be placed/.test(m.subject)),
    });
  });

  it.each(['x', 'TOK_DECLINE', 'tok_decline ', 'tok_visa\t'])(
    'when the card token is none the provider issued (%j), then the payment is refused as invalid and the order FAILED, nothing shipped',
    async (token) => {
      const placed = await customer.placeOrder([{ sku: 'FICUS-BENJAMINA', quantity: 1 }], token);
      expect(placed.status).toBe(202);
      const order = await customer.finalOrder(placed.body.orderId);
      expect(order).toMatchObject({ status: 'FAILED', failureReason: 'payment-failed' });
      const details = await customer.get<{
        shipment: { available: boolean; reason: string };
        payment: { value: { status: string; failureReason: string } };
      }>(`/orders/${order.id}/details`);
      expect(details.body.payment.value).toMatchObject({ status: 'FAILED', failureReason: 'invalid-token' });
      expect(details.body.shipment).toEqual({ available: false, reason: 'shipment-not-found' });
    },
  );

  it('when an item is out of stock, then the order FAILED without any charge', async () => {
    const before = await client.stock('FICUS-MICROCARPA');
    const placed = await customer.placeOrder([
      { sku: 'FICUS-PUMILA', quantity: 1 },
      { sku: 'FICUS-MICROCARPA', quantity: before.available + 1 },
    ]);
    const order = await customer.finalOrder(placed.body.orderId);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toBe('out-of-stock: FICUS-MICROCARPA');
    expect(await client.stock('FICUS-MICROCARPA')).toEqual(before);
    expect(await chargesFor(order.id)).toBe(0);
    const payment = await customer.get<{ payment: { value: { status: string } } }>(`/orders/${order.id}/details`);
    expect(payment.body.payment.value.status).toBe('PENDING');
  });

  it('when 50 orders race for a stock of 10, then exactly 10 are CONFIRMED and stock never goes negative', async () => {
    const start = await client.stock('LIMITED-POT');
    expect(start).toEqual({ sku: 'LIMITED-POT', available: 10, reserved: 0 });
    const buyers = await Promise.all(Array.from({ length: 5 }, () => client.signUp()));

    const placed = await Promise.all(
      Array.from({ length: 50 }, (_, i) => buyers[i % buyers.length].placeOrder([{ sku: 'LIMITED-POT', quantity: 1 }])),
    );
    expect(placed.map((p) => p.status)).toEqual(Array(50).fill(202));

    const finals = await Promise.all(
      placed.map((p, i) => buyers[i % buyers.length].finalOrder(p.body.orderId, 60_000)),
    );
    const confirmed = finals.filter((o) => o.status === 'CONFIRMED');
    const failed = finals.filter((o) => o.status === 'FAILED');
    expect(confirmed).toHaveLength(10);
    expect(failed).toHaveLength(40);
    expect(failed.every((o) => o.failureReason === 'out-of-stock: LIMITED-POT')).toBe(true);

    const end = await eventually(() => client.stock('LIMITED-POT'), { until: (s) => s.reserved === 0 });
    expect(end.available).toBe(0);
    const negatives = await asAdmin(
      shop.database,
      'SELECT sku FROM inventory.stock WHERE available < 0 OR reserved < 0',
    );
    expect(negatives).toEqual([]);
  });

  it('when the same event is delivered three times, then it has one effect', async () => {
    const placed = await customer.placeOrder([{ sku: 'SOIL-MIX', quantity: 4 }]);
    const order = await customer.finalOrder(placed.body.orderId);
    expect(order.status).toBe('CONFIRMED');
    const stockBefore = await eventually(() => client.stock('SOIL-MIX'), { until: (s) => s.reserved === 0 });

    const [row] = await asAdmin<Record<string, unknown>>(
      shop.database,
      `SELECT message_id, type, version, aggregate_id, correlation_id, payload, occurred_at
         FROM ordering.order_events WHERE aggregate_id = $1 AND type = 'ordering.order-created'`,
      [order.id],
    );
    const envelope: Envelope = {
      id: row.message_id as string,
      type: row.type as string,
      version: row.version as number,
      aggregateId: row.aggregate_id as string,
      correlationId: row.correlation_id as string,
      occurredAt: (row.occurred_at as Date).toISOString(),
      payload: row.payload,
    };
    const transport = shop.app.get(InProcessEventTransport, { strict: false });
    for (let i = 0; i < 3; i++) {
      await transport.publish([envelope]);
    }

    expect(await client.stock('SOIL-MIX')).toEqual(stockBefore);
    expect(await chargesFor(order.id)).toBe(1);
    const reservations = await asAdmin<{ n: string }>(
      shop.database,
      'SELECT count(*) AS n FROM inventory.reservations WHERE order_id = $1',
      [order.id],
    );
    expect(Number(reservations[0].n)).toBe(1);
    const inbox = await asAdmin<{ n: string }>(
      shop.database,
      'SELECT count(*) AS n FROM inventory.inbox WHERE message_id = $1',
      [envelope.id],
    );
    expect(Number(inbox[0].n)).toBe(1);
    const timeline = await customer.get<{ steps: Array<{ step: string }> }>(`/orders/${order.id}/timeline`);
    expect(timeline.body.steps.filter((s) => s.step === 'STOCK_RESERVED')).toHaveLength(1);
  });

  it('when the order-history read model is rebuilt by replay, then it reads the same', async () => {
    const admin = await asAdmin<{ customer_id: string; status: string; order_id: string }>(
      shop.database,
      'SELECT order_id, customer_id, status FROM ordering.order_history ORDER BY order_id',
    );
    expect(admin.length).toBeGreaterThan(10);
    await asAdmin(shop.database, "UPDATE ordering.order_history SET status = 'PENDING'");
    const ordering = shop.app.get(ContractBus, { strict: false }).client(OrderingContract);
    const rebuilt = await ordering.rebuildOrderHistory(
      { correlationId: 'rebuild', deadline: Date.now() + 30_000, caller: { subject: 'test-admin', roles: ['admin'] } },
      {},
    );
    expect(rebuilt.ordersProjected).toBe(admin.length);
    const after = await asAdmin(
      shop.database,
      'SELECT order_id, customer_id, status FROM ordering.order_history ORDER BY order_id',
    );
    expect(after).toEqual(admin);
  });
});
