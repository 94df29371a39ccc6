import { ShopClient } from '../support/http-client';
import { eventually } from '../support/eventually';
import { startShopProcess, type ShopProcess } from '../support/shop-process';
import { asAdmin, freshDatabase } from '../support/test-database';

describe('a crash in the middle of a saga (monolith process)', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let shop: ShopProcess | undefined;

  beforeAll(async () => {
    database = await freshDatabase('restart');
  });
  afterAll(async () => {
    await shop?.stop();
    await database?.drop();
  });

  it('when the process is killed after OrderCreated and started again, then the saga finishes, charged once', async () => {
    // A slow payment provider holds the saga between stock reserved and payment completed.
    shop = await startShopProcess(database.config, { FICUS_FAKE_PAYMENT_LATENCY_MS: '60000' });
    const customer = await new ShopClient(shop.baseUrl).signUp();
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }]);
    expect(placed.status).toBe(202);
    const { orderId } = placed.body;
    await eventually(() => customer.get<{ steps: Array<{ step: string }> }>(`/orders/${orderId}/timeline`), {
      until: (t) => t.body.steps.some((s) => s.step === 'STOCK_RESERVED'),
      what: 'stock reserved before the crash',
    });

    await shop.kill();
    const [pending] = await asAdmin<{ status: string }>(
      database.config,
      'SELECT status FROM payments.payments WHERE order_id = $1',
      [orderId],
    );
    expect(pending.status).toBe('PENDING');

    shop = await startShopProcess(database.config);
    const after = customer.at(shop.baseUrl);
    const order = await after.finalOrder(orderId, 30_000);
    expect(order.status).toBe('CONFIRMED');
    const charges = await asAdmin<{ n: string }>(
      database.config,
      'SELECT count(*) AS n FROM payments.fake_provider_charges WHERE idempotency_key = $1',
      [`order:${orderId}`],
    );
    expect(Number(charges[0].n)).toBe(1);
    const shipments = await asAdmin<{ n: string }>(
      database.config,
      'SELECT count(*) AS n FROM shipping.shipments WHERE order_id = $1',
      [orderId],
    );
    expect(Number(shipments[0].n)).toBe(1);
  }, 120_000); // two starts of the shop process and a saga: the default minute was too tight once on CI
});
