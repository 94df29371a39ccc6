import { randomUUID } from 'node:crypto';
import { StockReserved } from '@contracts/inventory';
import { OrderCreated } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import { PaymentsModule } from '@modules/payments';
import { callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

describe('payments, alone on its database', () => {
  let payments: ModuleUnderTest;

  beforeAll(async () => {
    payments = await startModule('payments', PaymentsModule, [], {
      consumerRetry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
    });
  });
  afterAll(() => payments?.close());

  const orderCreated = (orderId: string, paymentToken = 'tok_visa') =>
    OrderCreated.create(
      {
        orderId,
        customerId: randomUUID(),
        items: [{ sku: 'SOIL-MIX', quantity: 2, unitPrice: { amountMinor: 750, currency: 'EUR' } }],
        total: { amountMinor: 1_500, currency: 'EUR' },
        paymentToken,
      },
      { correlationId: orderId },
    );
  const stockReserved = (orderId: string) =>
    StockReserved.create({ orderId, items: [{ sku: 'SOIL-MIX', quantity: 2 }] }, { correlationId: orderId });

  it('charges an order once its stock is reserved, and announces the payment', async () => {
    const orderId = randomUUID();
    await payments.events.publish([orderCreated(orderId)]);
    await payments.events.publish([stockReserved(orderId)]);
    const payment = await payments.client(PaymentsContract).getPayment(callContext(), { orderId });
    expect(payment).toMatchObject({ orderId, status: 'COMPLETED', amount: { amountMinor: 1_500, currency: 'EUR' } });
    const events = await asAdmin<{ type: string }>(payments.database, 'SELECT type FROM payments.outbox WHERE aggregate_id = $1', [orderId]);
    expect(events.map((e) => e.type)).toEqual(['payments.payment-completed']);
  });

  it('declines tok_decline and announces the failure', async () => {
    const orderId = randomUUID();
    await payments.events.publish([orderCreated(orderId, 'tok_decline')]);
    await payments.events.publish([stockReserved(orderId)]);
    const payment = await payments.client(PaymentsContract).getPayment(callContext(), { orderId });
    expect(payment).toMatchObject({ status: 'FAILED', failureReason: 'card-declined' });
  });

  it('charges once both facts are in, whichever arrives first', async () => {
    const orderId = randomUUID();
    await payments.events.publish([stockReserved(orderId)]); // inventory's relay was faster
    await expect(payments.client(PaymentsContract).getPayment(callContext(), { orderId })).rejects.toMatchObject({
      code: 'payment-not-found',
    });
    await payments.events.publish([orderCreated(orderId)]);
    const payment = await payments.client(PaymentsContract).getPayment(callContext(), { orderId });
    expect(payment.status).toBe('COMPLETED');
    const runtime = payments.registry.get('payments')!;
    expect(await runtime.deadLetters.list()).toEqual([]);
    const charges = await asAdmin<{ n: string }>(
      payments.database,
      'SELECT count(*) AS n FROM payments.fake_provider_charges WHERE idempotency_key = $1',
      [`order:${orderId}`],
    );
    expect(Number(charges[0].n)).toBe(1);
  });

  it('charges once when both facts arrive at the same time', async () => {
    const orderIds = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(orderIds.flatMap((id) => [payments.events.publish([orderCreated(id)]), payments.events.publish([stockReserved(id)])]));
    for (const orderId of orderIds) {
      const payment = await payments.client(PaymentsContract).getPayment(callContext(), { orderId });
      expect(payment.status).toBe('COMPLETED');
    }
    const charges = await asAdmin<{ n: string }>(
      payments.database,
      'SELECT count(*) AS n FROM payments.fake_provider_charges WHERE idempotency_key = ANY($1)',
      [orderIds.map((id) => `order:${id}`)],
    );
    expect(Number(charges[0].n)).toBe(10);
  });

  it('answers not-found for an order it never heard of', async () => {
    await expect(payments.client(PaymentsContract).getPayment(callContext(), { orderId: randomUUID() })).rejects.toMatchObject({
      kind: 'not-found',
      code: 'payment-not-found',
    });
  });
});
