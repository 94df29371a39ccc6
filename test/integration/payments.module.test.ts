import { randomUUID } from 'node:crypto';
import { StockReserved } from '@contracts/inventory';
import { OrderCreated, OrderFailed } from '@contracts/ordering';
import { PaymentRefunded, PaymentsContract } from '@contracts/payments';
import { PaymentsModule } from '@modules/payments';
import { PAYMENT_PROVIDER, PaymentProviderUnavailable, type PaymentProvider } from '../../modules/payments/src/domain/payment-provider';
import { asAdminUser, asCustomer, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

const SLOW_MS = 300;

describe('payments, alone on its database', () => {
  let payments: ModuleUnderTest;
  const savedSlow = process.env.FICUS_FAKE_PAYMENT_SLOW_MS;

  beforeAll(async () => {
    process.env.FICUS_FAKE_PAYMENT_SLOW_MS = String(SLOW_MS);
    payments = await startModule('payments', PaymentsModule, [], {
      consumerRetry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
    });
  });
  afterAll(async () => {
    await payments?.close();
    if (savedSlow === undefined) delete process.env.FICUS_FAKE_PAYMENT_SLOW_MS;
    else process.env.FICUS_FAKE_PAYMENT_SLOW_MS = savedSlow;
  });

  const orderCreated = (orderId: string, paymentToken = 'tok_visa', customerId = randomUUID()) =>
    OrderCreated.create(
      {
        orderId,
        customerId,
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
    const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
    expect(payment).toMatchObject({ orderId, status: 'COMPLETED', amount: { amountMinor: 1_500, currency: 'EUR' } });
    const events = await asAdmin<{ type: string }>(payments.database, 'SELECT type FROM payments.outbox WHERE aggregate_id = $1', [orderId]);
    expect(events.map((e) => e.type)).toEqual(['payments.payment-completed']);
  });

  it('declines tok_decline and announces the failure', async () => {
    const orderId = randomUUID();
    await payments.events.publish([orderCreated(orderId, 'tok_decline')]);
    await payments.events.publish([stockReserved(orderId)]);
    const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
    expect(payment).toMatchObject({ status: 'FAILED', failureReason: 'card-declined' });
  });

  it.each([
    ['tok_visa', 'COMPLETED', undefined],
    ['tok_mastercard', 'COMPLETED', undefined],
    ['tok_insufficient_funds', 'FAILED', 'insufficient-funds'],
    // Not a test card: refused as a real provider refuses a token it never issued.
    ['x', 'FAILED', 'invalid-token'],
    ['TOK_DECLINE', 'FAILED', 'invalid-token'],
    ['tok_decline ', 'FAILED', 'invalid-token'],
    ['TOK_VISA', 'FAILED', 'invalid-token'],
    ['__proto__', 'FAILED', 'invalid-token'],
    ['constructor', 'FAILED', 'invalid-token'],
  ])('answers the token %j as its test mode documents: %s %s', async (token, status, failureReason) => {
    const orderId = randomUUID();
    await payments.events.publish([orderCreated(orderId, token)]);
    await payments.events.publish([stockReserved(orderId)]);
    const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
    expect({ status: payment.status, failureReason: payment.failureReason }).toEqual({ status, failureReason });
  });

  it('finds the provider unavailable for tok_provider_error, every time, and approves tok_slow after its delay', async () => {
    const provider = payments.app.get<PaymentProvider>(PAYMENT_PROVIDER);
    const amount = { amountMinor: 100, currency: 'EUR' };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(provider.charge({ idempotencyKey: `order:${randomUUID()}`, amount, token: 'tok_provider_error' })).rejects.toBeInstanceOf(PaymentProviderUnavailable);
    }
    const started = Date.now();
    await expect(provider.charge({ idempotencyKey: `order:${randomUUID()}`, amount, token: 'tok_slow' })).resolves.toMatchObject({ outcome: 'approved' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOW_MS - 10); // its behaviour, not a speed: a timer may fire a tick early
  });

  it('charges once both facts are in, whichever arrives first', async () => {
    const orderId = randomUUID();
    await payments.events.publish([stockReserved(orderId)]); // inventory's relay was faster
    await expect(payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId })).rejects.toMatchObject({
      code: 'payment-not-found',
    });
    await payments.events.publish([orderCreated(orderId)]);
    const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
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
      const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
      expect(payment.status).toBe('COMPLETED');
    }
    const charges = await asAdmin<{ n: string }>(
      payments.database,
      'SELECT count(*) AS n FROM payments.fake_provider_charges WHERE idempotency_key = ANY($1)',
      [orderIds.map((id) => `order:${id}`)],
    );
    expect(Number(charges[0].n)).toBe(10);
  });

  describe('when an order fails (saga compensation)', () => {
    const orderFailed = (orderId: string) =>
      OrderFailed.create(
        { orderId, customerId: randomUUID(), reason: 'saga-deadline-exceeded: waiting for shipment' },
        { correlationId: orderId },
      );
    const ledger = async (orderId: string) => {
      const [row] = await asAdmin<{ charges: string; refunds: string }>(
        payments.database,
        `SELECT (SELECT count(*) FROM payments.fake_provider_charges WHERE idempotency_key = $1) AS charges,
                (SELECT count(*) FROM payments.fake_provider_refunds WHERE idempotency_key = $2) AS refunds`,
        [`order:${orderId}`, `refund:order:${orderId}`],
      );
      return { charges: Number(row.charges), refunds: Number(row.refunds) };
    };
    const eventsOf = async (orderId: string) =>
      (await asAdmin<{ type: string }>(payments.database, 'SELECT type FROM payments.outbox WHERE aggregate_id = $1 ORDER BY seq', [orderId])).map(
        (row) => row.type,
      );

    it('refunds a captured payment once, however often the failure arrives, and announces the refund', async () => {
      const orderId = randomUUID();
      await payments.events.publish([orderCreated(orderId)]);
      await payments.events.publish([stockReserved(orderId)]);
      const charged = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
      expect(charged.status).toBe('COMPLETED');

      await payments.events.publish([orderFailed(orderId)]);
      await payments.events.publish([orderFailed(orderId)]); // another message id: the inbox cannot tell

      expect(await ledger(orderId)).toEqual({ charges: 1, refunds: 1 });
      const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
      expect(payment).toMatchObject({
        status: 'COMPLETED',
        providerReference: charged.providerReference,
        refundReference: expect.stringMatching(/^fake_re_/),
        refundedAt: expect.any(String),
      });
      expect(await eventsOf(orderId)).toEqual(['payments.payment-completed', PaymentRefunded.type]);
      const [refunded] = await asAdmin<{ payload: unknown }>(
        payments.database,
        'SELECT payload FROM payments.outbox WHERE aggregate_id = $1 AND type = $2',
        [orderId, PaymentRefunded.type],
      );
      expect(refunded.payload).toEqual({
        orderId,
        amount: { amountMinor: 1_500, currency: 'EUR' },
        providerReference: charged.providerReference,
        refundReference: payment.refundReference,
        reason: 'order-failed: saga-deadline-exceeded: waiting for shipment',
      });
    });

    it('never charges an order that failed before its stock was reserved', async () => {
      const orderId = randomUUID();
      await payments.events.publish([orderCreated(orderId)]);
      await payments.events.publish([orderFailed(orderId)]);
      await payments.events.publish([stockReserved(orderId)]);
      const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
      expect(payment.status).toBe('PENDING');
      expect(payment.refundReference).toBeUndefined();
      expect(await ledger(orderId)).toEqual({ charges: 0, refunds: 0 });
      expect(await eventsOf(orderId)).toEqual([]);
    });

    it('never charges an order whose failure arrived before anything else about it', async () => {
      const orderId = randomUUID();
      await payments.events.publish([orderFailed(orderId)]);
      await payments.events.publish([stockReserved(orderId)]);
      await payments.events.publish([orderCreated(orderId)]);
      expect(await ledger(orderId)).toEqual({ charges: 0, refunds: 0 });
      expect(await eventsOf(orderId)).toEqual([]);
      expect(await payments.registry.get('payments')!.deadLetters.list()).toEqual([]);
    });

    it('refunds a charge the provider made but whose answer we lost, when the order fails', async () => {
      const orderId = randomUUID();
      await payments.events.publish([orderCreated(orderId)]); // priced, stock not yet reserved: PENDING
      // The provider charged (its ledger says so) but our transaction rolled back: nothing recorded.
      await asAdmin(
        payments.database,
        `INSERT INTO payments.fake_provider_charges (idempotency_key, amount_minor, currency, outcome, reference)
         VALUES ($1, 1500, 'EUR', 'approved', 'fake_ch_lost_answer')`,
        [`order:${orderId}`],
      );
      expect((await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId })).status).toBe('PENDING');

      await payments.events.publish([orderFailed(orderId)]);

      expect(await ledger(orderId)).toEqual({ charges: 1, refunds: 1 });
      const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
      expect(payment).toMatchObject({ status: 'COMPLETED', providerReference: 'fake_ch_lost_answer', refundReference: expect.stringMatching(/^fake_re_/) });
      expect(await eventsOf(orderId)).toEqual([PaymentRefunded.type]);
    });

    it('refunds nothing when the payment was declined', async () => {
      const orderId = randomUUID();
      await payments.events.publish([orderCreated(orderId, 'tok_decline')]);
      await payments.events.publish([stockReserved(orderId)]);
      await payments.events.publish([orderFailed(orderId)]);
      expect(await ledger(orderId)).toEqual({ charges: 1, refunds: 0 });
      expect(await eventsOf(orderId)).toEqual(['payments.payment-failed']);
    });

    it('leaves no payment charged and not refunded when the failure races the charge', async () => {
      const orderIds = Array.from({ length: 10 }, () => randomUUID());
      await Promise.all(orderIds.map((id) => payments.events.publish([orderCreated(id)])));
      await Promise.all(orderIds.flatMap((id) => [payments.events.publish([stockReserved(id)]), payments.events.publish([orderFailed(id)])]));
      for (const orderId of orderIds) {
        const { charges, refunds } = await ledger(orderId);
        expect({ orderId, settled: charges === refunds && charges <= 1 }).toEqual({ orderId, settled: true });
      }
    });
  });

  it("shows a payment to its customer and to admins only, and names the customer to shipping", async () => {
    const orderId = randomUUID();
    const customerId = randomUUID();
    await payments.events.publish([orderCreated(orderId, 'tok_visa', customerId)]);
    await payments.events.publish([stockReserved(orderId)]);
    const api = payments.client(PaymentsContract);

    expect(await api.getPayment(asCustomer(customerId), { orderId })).toMatchObject({ orderId, status: 'COMPLETED' });
    await expect(api.getPayment(asCustomer(randomUUID()), { orderId })).rejects.toMatchObject({ kind: 'not-found', code: 'payment-not-found' });
    await expect(api.getPayment(callContext(), { orderId })).rejects.toMatchObject({ kind: 'unauthenticated', code: 'end-user-required' });
    const [completed] = await asAdmin<{ payload: { customerId?: string } }>(
      payments.database,
      "SELECT payload FROM payments.outbox WHERE aggregate_id = $1 AND type = 'payments.payment-completed'",
      [orderId],
    );
    expect(completed.payload.customerId).toBe(customerId);
  });

  it('answers not-found for an order it never heard of', async () => {
    await expect(payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId: randomUUID() })).rejects.toMatchObject({
      kind: 'not-found',
      code: 'payment-not-found',
    });
  });
});
