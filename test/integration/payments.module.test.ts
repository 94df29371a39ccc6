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

  it('retries a step that came too early, dead-letters it when patience runs out, and a replay completes it', async () => {
    const orderId = randomUUID();
    const early = stockReserved(orderId);
    await payments.events.publish([early]); // order-created has not arrived: nothing to charge yet

    const runtime = payments.registry.get('payments')!;
    const [letter] = (await runtime.deadLetters.list()).filter((l) => l.messageId === early.id);
    expect(letter).toMatchObject({ attempts: 3, reason: expect.stringContaining('is not opened yet') });

    await payments.events.publish([orderCreated(orderId)]);
    expect(await runtime.deadLetters.replay(letter.id)).toBe('processed');
    const payment = await payments.client(PaymentsContract).getPayment(callContext(), { orderId });
    expect(payment.status).toBe('COMPLETED');
    expect((await runtime.deadLetters.list()).some((l) => l.messageId === early.id)).toBe(false);
    expect(await runtime.deadLetters.replay(letter.id)).toBe('already-processed');
  });

  it('answers not-found for an order it never heard of', async () => {
    await expect(payments.client(PaymentsContract).getPayment(callContext(), { orderId: randomUUID() })).rejects.toMatchObject({
      kind: 'not-found',
      code: 'payment-not-found',
    });
  });
});
