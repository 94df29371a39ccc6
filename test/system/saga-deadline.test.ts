import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

const DEADLINE_MS = 1_500;
/** The payment provider answers only after the saga's deadline: the order cannot finish in time. */
const PROVIDER_LATENCY_MS = 3_000;

interface Details {
  payment: { available: boolean; value?: { status: string; refundReference?: string; refundedAt?: string } };
  shipment: { available: boolean; reason?: string; value?: { status: string } };
}

describe('the saga deadline (monolith)', () => {
  let shop: RunningShop;
  let client: ShopClient;
  const saved = { ...process.env };

  beforeAll(async () => {
    // Both are read as the modules start.
    process.env.FICUS_SAGA_DEADLINE_MS = String(DEADLINE_MS);
    process.env.FICUS_FAKE_PAYMENT_LATENCY_MS = String(PROVIDER_LATENCY_MS);
    shop = await startShop('saga_deadline');
    client = new ShopClient(shop.baseUrl);
  });
  afterAll(async () => {
    await shop?.close();
    process.env = saved;
  });

  const ledger = async (orderId: string) => {
    const [row] = await asAdmin<{ charges: string; refunds: string }>(
      shop.database,
      `SELECT (SELECT count(*) FROM payments.fake_provider_charges WHERE idempotency_key = $1 AND outcome = 'approved') AS charges,
              (SELECT count(*) FROM payments.fake_provider_refunds WHERE idempotency_key = $2) AS refunds`,
      [`order:${orderId}`, `refund:order:${orderId}`],
    );
    return { charges: Number(row.charges), refunds: Number(row.refunds) };
  };

  it('when the payment cannot finish before the deadline, then the order FAILS with the reason and everything is given back', async () => {
    const customer = await client.signUp();
    const before = await client.stock('FICUS-LYRATA');
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 2 }]);
    expect(placed.status).toBe(202);
    const orderId = placed.body.orderId;

    const order = await customer.finalOrder(orderId, 30_000);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toBe('saga-deadline-exceeded: waiting for payment, shipment');

    const timeline = await customer.get<{ steps: Array<{ step: string; detail?: { reason?: string } }> }>(
      `/orders/${orderId}/timeline`,
    );
    expect(timeline.body.steps.map((s) => s.step)).toEqual(['ORDER_CREATED', 'STOCK_RESERVED', 'ORDER_FAILED']);
    expect(timeline.body.steps[2].detail?.reason).toMatch(/^saga-deadline-exceeded/);

    // stock: the reservation is given back
    expect(
      await eventually(() => client.stock('FICUS-LYRATA'), { until: (s) => s.reserved === before.reserved }),
    ).toEqual(before);

    // payment: the charge that was under way completes, and is then refunded, once
    const details = await eventually(() => customer.get<Details>(`/orders/${orderId}/details`), {
      until: (d) => d.body.payment.value?.refundReference !== undefined,
      timeoutMs: 30_000,
      what: 'the captured payment is refunded',
    });
    expect(details.body.payment.value).toMatchObject({ status: 'COMPLETED', refundedAt: expect.any(String) });
    expect(await ledger(orderId)).toEqual({ charges: 1, refunds: 1 });

    // shipping: the payment reached it after the failure, so nothing ships
    const shipment = details.body.shipment;
    expect(shipment.available ? shipment.value?.status : shipment.reason).toMatch(/^(CANCELLED|shipment-not-found)$/);
    const live = await asAdmin(
      shop.database,
      "SELECT 1 FROM shipping.shipments WHERE order_id = $1 AND status <> 'CANCELLED'",
      [orderId],
    );
    expect(live).toEqual([]);

    // the order stays FAILED: the late payment-completed changed nothing
    expect((await customer.get<{ status: string }>(`/orders/${orderId}`)).body.status).toBe('FAILED');
    expect((await customer.get<{ steps: unknown[] }>(`/orders/${orderId}/timeline`)).body.steps).toHaveLength(3);

    // the customer is told
    await eventually(
      () => customer.get<{ items: Array<{ orderId: string; subject: string; body: string }> }>('/notifications'),
      {
        until: (n) =>
          n.body.items.some(
            (m) => m.orderId === orderId && /could not be placed/.test(m.subject) && /refunded/.test(m.body),
          ),
        what: 'an order-failed notification',
      },
    );

    const contexts = ['inventory', 'payments', 'shipping', 'ordering', 'notifications'];
    const letters = await asAdmin<{ context: string }>(
      shop.database,
      contexts.map((context) => `SELECT '${context}' AS context FROM ${context}.dead_letters`).join(' UNION ALL '),
    );
    expect(letters).toEqual([]);
  });
});
