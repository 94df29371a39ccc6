import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';

/**
 * Issue 15, item 2, as the attacker tried it over HTTP: the fake provider declined only the exact
 * string `tok_decline`, so `"x"`, `"TOK_DECLINE"` and `"tok_decline "` were approved and their
 * orders confirmed and shipped. The fake now behaves as a real provider's test mode: its
 * documented tokens do what docs/payments.md says, anything else is an invalid card. (Its refusal
 * to start with NODE_ENV=production: modules/payments/src/provider/payment-providers.test.ts.)
 */
describe('paying with a token the test mode does not know (monolith)', () => {
  let shop: RunningShop;
  let customer: ShopClient;
  beforeAll(async () => {
    shop = await startShop('payments_test_mode');
    customer = await new ShopClient(shop.baseUrl).signUp();
  });
  afterAll(() => shop?.close());

  it.each(['x', 'TOK_DECLINE', 'tok_decline ', 'tok_visa ', 'TOK_VISA', ' tok_visa', 'tok_visa\u200b', 'tok_visa\n'])(
    'the token %j fails its order: no charge, no shipment',
    async (token) => {
      const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }], token);
      if (placed.status !== 202) {
        // Refused at the edge (a control character): a 4xx problem, never an order.
        expect(placed.status).toBeGreaterThanOrEqual(400);
        expect(placed.status).toBeLessThan(500);
        return;
      }
      const order = await customer.finalOrder(placed.body.orderId);
      expect(order.status).toBe('FAILED');
      const details = await customer.get<{
        payment: { value?: { status: string; failureReason?: string } };
        shipment: { available: boolean };
      }>(`/orders/${placed.body.orderId}/details`);
      expect(details.body.payment.value).toMatchObject({ status: 'FAILED', failureReason: 'invalid-token' });
      expect(details.body.shipment.available).toBe(false);
    },
  );

  it('the documented approving token confirms its order (the control)', async () => {
    const placed = await customer.placeOrder([{ sku: 'FICUS-ELASTICA', quantity: 1 }], 'tok_visa');
    expect((await customer.finalOrder(placed.body.orderId)).status).toBe('CONFIRMED');
  });
});
