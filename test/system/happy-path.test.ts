import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

describe('when a customer places an order (monolith)', () => {
  let shop: RunningShop;
  let client: ShopClient;

  beforeAll(async () => {
    shop = await startShop('happy');
    client = new ShopClient(shop.baseUrl);
  });
  afterAll(() => shop?.close());

  it('then stock is reserved, payment charged, shipment created, the order CONFIRMED, and every part agrees', async () => {
    const customer = await client.signUp();
    const before = await client.stock('FICUS-ELASTICA');

    const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 3 }]);
    expect(placed.status).toBe(202);
    const { orderId } = placed.body;

    const order = await customer.finalOrder(orderId);
    expect(order.status).toBe('CONFIRMED');

    const timeline = await customer.get<{ steps: Array<{ step: string; at: string }> }>(`/orders/${orderId}/timeline`);
    const steps = timeline.body.steps.map((s) => s.step);
    expect(steps[0]).toBe('ORDER_CREATED');
    expect(steps).toEqual(
      expect.arrayContaining(['STOCK_RESERVED', 'PAYMENT_COMPLETED', 'SHIPMENT_CREATED', 'ORDER_CONFIRMED']),
    );
    expect(steps.at(-1)).toBe('ORDER_CONFIRMED');
    const times = timeline.body.steps.map((s) => Date.parse(s.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    // stock: three units left the shelf for good once the order was confirmed
    const after = await eventually(() => client.stock('FICUS-ELASTICA'), {
      until: (s) => s.reserved === before.reserved,
    });
    expect(after.available).toBe(before.available - 3);

    const details = await customer.get<{
      order: { total: { amountMinor: number }; items: Array<{ productName: string }> };
      payment: { available: boolean; value: { status: string; amount: { amountMinor: number } } };
      shipment: { available: boolean; value: { trackingNumber: string } };
    }>(`/orders/${orderId}/details`);
    expect(details.status).toBe(200);
    expect(details.body.payment.value.status).toBe('COMPLETED');
    expect(details.body.payment.value.amount.amountMinor).toBe(details.body.order.total.amountMinor);
    expect(details.body.order.total.amountMinor).toBe(3 * 2_450);
    expect(details.body.shipment.value.trackingNumber).toMatch(/^FC-\d{4}-\d{4}-\d{2}$/);
    expect(details.body.order.items[0].productName).toBe('Rubber plant');

    const payment = await customer.get<{ orderId: string; status: string }>(`/orders/${orderId}/payment`);
    expect(payment.status).toBe(200);
    expect(payment.body).toMatchObject({ orderId, status: 'COMPLETED' });
    const stranger = await new ShopClient(shop.baseUrl).signUp();
    expect((await stranger.get(`/orders/${orderId}/payment`)).status).toBe(404);

    const history = await eventually(
      () => customer.get<{ items: Array<{ orderId: string; status: string }> }>('/customers/me/orders'),
      { until: (h) => h.body.items.some((i) => i.orderId === orderId && i.status === 'CONFIRMED') },
    );
    expect(history.body.items).toHaveLength(1);

    const mail = await eventually(
      () => customer.get<{ items: Array<{ orderId?: string; subject: string }> }>('/notifications'),
      { until: (n) => n.body.items.some((item) => item.orderId) },
    );
    // The order's one email, newest first, after the account's confirmation email.
    expect(mail.body.items).toEqual([
      expect.objectContaining({ orderId, subject: expect.stringContaining('confirmed') }),
      expect.objectContaining({ subject: 'Confirm your email address' }),
    ]);

    const charges = await asAdmin<{ n: string }>(
      shop.database,
      'SELECT count(*) AS n FROM payments.fake_provider_charges WHERE idempotency_key = $1',
      [`order:${orderId}`],
    );
    expect(Number(charges[0].n)).toBe(1);
  });
});
