import { randomUUID } from 'node:crypto';
import { StockReserved } from '@contracts/inventory';
import { OrderCreated, OrderCreatedV2, OrderFailed } from '@contracts/ordering';
import { PaymentRefunded, PaymentsContract } from '@contracts/payments';
import { PaymentsModule } from '@modules/payments';
import {
  PAYMENT_PROVIDER,
  PaymentProviderUnavailable,
  type PaymentProvider,
} from '../../modules/payments/src/domain/payment-provider';
import { PaymentMethodVault } from '../../modules/payments/src/persistence/payment-method.vault';
import { asAdminUser, asCustomer, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';
import { CommandBus } from '@nestjs/cqrs';
import { ProviderRetries } from '../../modules/payments/src/application/provider-retries';
import { PaymentRepository } from '../../modules/payments/src/persistence/payment.repository';

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

  const order = (orderId: string, customerId: string) => ({
    orderId,
    customerId,
    items: [{ sku: 'SOIL-MIX', quantity: 2, unitPrice: { amountMinor: 750, currency: 'EUR' } }],
    total: { amountMinor: 1_500, currency: 'EUR' },
  });
  /** As an order is placed: the customer's card held first (as the edge does), then order-created v2 naming it. */
  const orderCreated = async (orderId: string, paymentToken = 'tok_visa', customerId: string = randomUUID()) => {
    const { paymentMethodId } = await payments
      .client(PaymentsContract)
      .holdPaymentMethod(asCustomer(customerId), { token: paymentToken });
    return OrderCreatedV2.create({ ...order(orderId, customerId), paymentMethodId }, { correlationId: orderId });
  };
  /** What an outbox or a topic held when the vault came: the token in the event itself. */
  const orderCreatedV1 = (orderId: string, paymentToken = 'tok_visa', customerId: string = randomUUID()) =>
    OrderCreated.create({ ...order(orderId, customerId), paymentToken }, { correlationId: orderId });
  const stockReserved = (orderId: string) =>
    StockReserved.create({ orderId, items: [{ sku: 'SOIL-MIX', quantity: 2 }] }, { correlationId: orderId });

  it('charges an order once its stock is reserved, and announces the payment', async () => {
    const orderId = randomUUID();
    await payments.events.publish([await orderCreated(orderId)]);
    await payments.events.publish([stockReserved(orderId)]);
    const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
    expect(payment).toMatchObject({ orderId, status: 'COMPLETED', amount: { amountMinor: 1_500, currency: 'EUR' } });
    const events = await asAdmin<{ type: string }>(
      payments.database,
      'SELECT type FROM payments.outbox WHERE aggregate_id = $1',
      [orderId],
    );
    expect(events.map((e) => e.type)).toEqual(['payments.payment-completed']);
  });

  it("lists the payments of many orders in one call: the caller's own, another's and an unpriced one left out", async () => {
    const [customer, stranger] = [randomUUID(), randomUUID()];
    const [mine, theirs, unpriced] = [randomUUID(), randomUUID(), randomUUID()];
    await payments.events.publish([await orderCreated(mine, 'tok_visa', customer)]);
    await payments.events.publish([await orderCreated(theirs, 'tok_visa', stranger)]);
    await payments.events.publish([stockReserved(unpriced)]); // payments knows of it, not its price
    const api = payments.client(PaymentsContract);
    const ids = (answer: { payments: Array<{ orderId: string }> }) => answer.payments.map((p) => p.orderId).sort();
    const orderIds = [mine, theirs, unpriced, randomUUID(), mine];
    expect(ids(await api.getPayments(asCustomer(customer), { orderIds }))).toEqual([mine]);
    expect(ids(await api.getPayments(asCustomer(stranger), { orderIds }))).toEqual([theirs]);
    expect(ids(await api.getPayments(asAdminUser(), { orderIds }))).toEqual([mine, theirs].sort());
    const [listed] = (await api.getPayments(asCustomer(customer), { orderIds: [mine] })).payments;
    expect(listed).toEqual(await api.getPayment(asCustomer(customer), { orderId: mine }));
    await expect(api.getPayments(callContext(), { orderIds })).rejects.toMatchObject({ code: 'end-user-required' });
    await expect(api.getPayments(asAdminUser(), { orderIds: [] })).rejects.toMatchObject({ kind: 'invalid-argument' });
  });

  it('declines tok_decline and announces the failure', async () => {
    const orderId = randomUUID();
    await payments.events.publish([await orderCreated(orderId, 'tok_decline')]);
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
    await payments.events.publish([await orderCreated(orderId, token)]);
    await payments.events.publish([stockReserved(orderId)]);
    const payment = await payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });
    expect({ status: payment.status, failureReason: payment.failureReason }).toEqual({ status, failureReason });
  });

  it('finds the provider unavailable for tok_provider_error, every time, and approves tok_slow after its delay', async () => {
    const provider = payments.app.get<PaymentProvider>(PAYMENT_PROVIDER);
    const amount = { amountMinor: 100, currency: 'EUR' };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expect(
        provider.charge({ idempotencyKey: `order:${randomUUID()}`, amount, token: 'tok_provider_error' }),
      ).rejects.toBeInstanceOf(PaymentProviderUnavailable);
    }
    const started = Date.now();
    await expect(
      provider.charge({ idempotencyKey: `order:${randomUUID()}`, amount, token: 'tok_slow' }),
    ).resolves.toMatchObject({ outcome: 'approved' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOW_MS - 10); // its behaviour, not a speed: a timer may fire a tick early
  });

  it('charges once both facts are in, whichever arrives first', async () => {
    const orderId = randomUUID();
    await payments.events.publish([stockReserved(orderId)]); // inventory's relay was faster
    await expect(payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId })).rejects.toMatchObject({
      code: 'payment-not-found',
    });
    await payments.events.publish([await orderCreated(orderId)]);
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

  it("answers charges racing on one key with the first one's outcome, as a provider's idempotency does", async () => {
    const provider = payments.app.get<PaymentProvider>(PAYMENT_PROVIDER);
    const key = `order:${randomUUID()}`;
    const charge = () =>
      provider.charge({ idempotencyKey: key, amount: { amountMinor: 990, currency: 'EUR' }, token: 'tok_visa' });
    // The ledger's pool warmed to its four connections first, so that the three really race.
    await Promise.all([0, 1, 2, 3].map(() => provider.findCharge(`order:${randomUUID()}`)));
    const answers = await Promise.all([charge(), charge(), charge()]);
    const [stored] = await asAdmin<{ reference: string }>(
      payments.database,
      'SELECT reference FROM payments.fake_provider_charges WHERE idempotency_key = $1',
      [key],
    );
    // Fails when a racing charge answers a reference of its own, which no refund could ever find.
    expect(answers).toEqual(answers.map(() => ({ outcome: 'approved', reference: stored.reference })));
  });

  it('charges once when both facts arrive at the same time', async () => {
    const orderIds = Array.from({ length: 10 }, () => randomUUID());
    const created = await Promise.all(orderIds.map((id) => orderCreated(id)));
    await Promise.all(
      orderIds.flatMap((id, i) => [
        payments.events.publish([created[i]]),
        payments.events.publish([stockReserved(id)]),
      ]),
    );
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
      (
        await asAdmin<{ type: string }>(
          payments.database,
          'SELECT type FROM payments.outbox WHERE aggregate_id = $1 ORDER BY seq',
          [orderId],
        )
      ).map((row) => row.type);

    it('refunds a captured payment once, however often the failure arrives, and announces the refund', async () => {
      const orderId = randomUUID();
      await payments.events.publish([await orderCreated(orderId)]);
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

    describe('a provider that cannot answer now', () => {
      const provider = () => payments.app.get<PaymentProvider>(PAYMENT_PROVIDER);
      const outage = () => new PaymentProviderUnavailable('provider down for this test');
      /** Driven by hand: the module's own, every second, is stopped for these tests (it would race their checks). */
      let retries: ProviderRetries;
      beforeAll(async () => {
        await payments.app.get(ProviderRetries).onModuleDestroy();
        retries = new ProviderRetries(payments.app.get(PaymentRepository), payments.app.get(CommandBus));
      });
      const retryOf = async (orderId: string) => {
        const [row] = await asAdmin<{
          provider_retry: string | null;
          provider_retry_attempts: number;
          provider_retry_last_error: string | null;
        }>(
          payments.database,
          `SELECT provider_retry, provider_retry_attempts, provider_retry_last_error
             FROM payments.payments WHERE order_id = $1`,
          [orderId],
        );
        return row;
      };
      const settled = { provider_retry: null, provider_retry_attempts: 0, provider_retry_last_error: null };
      /** As if the retry's wait had passed, then the sweep. */
      const retryNow = async (orderId: string) => {
        await asAdmin(
          payments.database,
          'UPDATE payments.payments SET provider_retry_due_at = now() WHERE order_id = $1',
          [orderId],
        );
        await retries.retryDue();
      };
      afterEach(() => jest.restoreAllMocks());

      it('handles the event, leaves the charge due again on the payment, and charges once when it answers', async () => {
        const orderId = randomUUID();
        jest.spyOn(provider(), 'charge').mockRejectedValueOnce(outage());
        await payments.events.publish([await orderCreated(orderId)]);
        // Handled, not held: before, the consumer kept the event (over Kafka, with every later one of its partition).
        await payments.events.publish([stockReserved(orderId)]);
        expect(await retryOf(orderId)).toEqual({
          provider_retry: 'charge',
          provider_retry_attempts: 1,
          provider_retry_last_error: 'provider down for this test',
        });
        expect(await eventsOf(orderId)).toEqual([]);

        await retryNow(orderId);
        expect(await eventsOf(orderId)).toEqual(['payments.payment-completed']);
        expect(await ledger(orderId)).toEqual({ charges: 1, refunds: 0 });
        expect(await retryOf(orderId)).toEqual(settled);
      });

      it('tries again later each time it still cannot, and makes no charge for an order that failed meanwhile', async () => {
        const orderId = randomUUID();
        const charge = jest.spyOn(provider(), 'charge').mockRejectedValue(outage());
        await payments.events.publish([await orderCreated(orderId), stockReserved(orderId)]);
        await retryNow(orderId);
        expect((await retryOf(orderId)).provider_retry_attempts).toBe(2);
        const [{ wait }] = await asAdmin<{ wait: number }>(
          payments.database,
          `SELECT extract(epoch FROM provider_retry_due_at - now()) AS wait FROM payments.payments WHERE order_id = $1`,
          [orderId],
        );
        expect(Number(wait)).toBeGreaterThan(1); // twice the first wait: the provider is not hammered

        await payments.events.publish([orderFailed(orderId)]);
        expect(await retryOf(orderId)).toEqual(settled);
        const attempts = charge.mock.calls.length;
        await retryNow(orderId); // nothing is due: no attempt follows
        expect(charge.mock.calls.length).toBe(attempts);
        expect(await ledger(orderId)).toEqual({ charges: 0, refunds: 0 });
        expect(await eventsOf(orderId)).toEqual([]);
      });

      it('learns the failure of a charged order at once, and refunds it once the provider answers', async () => {
        const orderId = randomUUID();
        await payments.events.publish([await orderCreated(orderId), stockReserved(orderId)]);
        jest.spyOn(provider(), 'refund').mockRejectedValueOnce(outage());
        await payments.events.publish([orderFailed(orderId)]);
        expect(await retryOf(orderId)).toMatchObject({ provider_retry: 'refund', provider_retry_attempts: 1 });
        const [{ order_failed }] = await asAdmin<{ order_failed: boolean }>(
          payments.database,
          'SELECT order_failed FROM payments.payments WHERE order_id = $1',
          [orderId],
        );
        expect(order_failed).toBe(true);

        await retryNow(orderId);
        expect(await eventsOf(orderId)).toEqual(['payments.payment-completed', PaymentRefunded.type]);
        expect(await ledger(orderId)).toEqual({ charges: 1, refunds: 1 });
        expect(await retryOf(orderId)).toEqual(settled);
      });

      it('refunds a charge the provider made but answered as unavailable, when the order fails and its look-up fails once too', async () => {
        const orderId = randomUUID();
        const real = provider().charge.bind(provider());
        jest.spyOn(provider(), 'charge').mockImplementationOnce(async (request) => {
          await real(request); // charged, but the answer is lost on the way
          throw outage();
        });
        await payments.events.publish([await orderCreated(orderId), stockReserved(orderId)]);
        expect(await retryOf(orderId)).toMatchObject({ provider_retry: 'charge', provider_retry_attempts: 1 });

        jest.spyOn(provider(), 'findCharge').mockRejectedValueOnce(outage());
        await payments.events.publish([orderFailed(orderId)]);
        // The charge's place is taken by the refund, counted afresh.
        expect(await retryOf(orderId)).toMatchObject({ provider_retry: 'refund', provider_retry_attempts: 1 });

        await retryNow(orderId);
        expect(await ledger(orderId)).toEqual({ charges: 1, refunds: 1 });
        expect(await eventsOf(orderId)).toEqual([PaymentRefunded.type]);
        expect(await retryOf(orderId)).toEqual(settled);
      });

      it('takes a due call once when two sweeps run at once', async () => {
        const orderId = randomUUID();
        const charge = jest.spyOn(provider(), 'charge').mockRejectedValueOnce(outage());
        await payments.events.publish([await orderCreated(orderId), stockReserved(orderId)]);
        await asAdmin(
          payments.database,
          'UPDATE payments.payments SET provider_retry_due_at = now() WHERE order_id = $1',
          [orderId],
        );
        await Promise.all([retries.retryDue(), retries.retryDue()]);
        expect(charge.mock.calls.length).toBe(2); // the first attempt and one retry
        expect(await ledger(orderId)).toEqual({ charges: 1, refunds: 0 });
      });
    });

    it('never charges an order that failed before its stock was reserved', async () => {
      const orderId = randomUUID();
      await payments.events.publish([await orderCreated(orderId)]);
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
      await payments.events.publish([await orderCreated(orderId)]);
      expect(await ledger(orderId)).toEqual({ charges: 0, refunds: 0 });
      expect(await eventsOf(orderId)).toEqual([]);
      expect(await payments.registry.get('payments')!.deadLetters.list()).toEqual([]);
    });

    it('refunds a charge the provider made but whose answer we lost, when the order fails', async () => {
      const orderId = randomUUID();
      await payments.events.publish([await orderCreated(orderId)]); // priced, stock not yet reserved: PENDING
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
      expect(payment).toMatchObject({
        status: 'COMPLETED',
        providerReference: 'fake_ch_lost_answer',
        refundReference: expect.stringMatching(/^fake_re_/),
      });
      expect(await eventsOf(orderId)).toEqual([PaymentRefunded.type]);
    });

    it('refunds nothing when the payment was declined', async () => {
      const orderId = randomUUID();
      await payments.events.publish([await orderCreated(orderId, 'tok_decline')]);
      await payments.events.publish([stockReserved(orderId)]);
      await payments.events.publish([orderFailed(orderId)]);
      expect(await ledger(orderId)).toEqual({ charges: 1, refunds: 0 });
      expect(await eventsOf(orderId)).toEqual(['payments.payment-failed']);
    });

    it('leaves no payment charged and not refunded when the failure races the charge', async () => {
      const orderIds = Array.from({ length: 10 }, () => randomUUID());
      await Promise.all(orderIds.map(async (id) => payments.events.publish([await orderCreated(id)])));
      await Promise.all(
        orderIds.flatMap((id) => [
          payments.events.publish([stockReserved(id)]),
          payments.events.publish([orderFailed(id)]),
        ]),
      );
      for (const orderId of orderIds) {
        const { charges, refunds } = await ledger(orderId);
        expect({ orderId, settled: charges === refunds && charges <= 1 }).toEqual({ orderId, settled: true });
      }
    });
  });

  describe('the vault of card tokens (ADR 0037)', () => {
    const hold = (customerId: string, token: string) =>
      payments.client(PaymentsContract).holdPaymentMethod(asCustomer(customerId), { token });
    const vaultRow = async (paymentMethodId: string) =>
      (
        await asAdmin<{ customer_id: string; sealed_token: string | null; order_id: string | null }>(
          payments.database,
          'SELECT customer_id, sealed_token, order_id FROM payments.payment_methods WHERE id = $1',
          [paymentMethodId],
        )
      )[0];
    const charges = async (orderId: string) =>
      Number(
        (
          await asAdmin<{ n: string }>(
            payments.database,
            'SELECT count(*) AS n FROM payments.fake_provider_charges WHERE idempotency_key = $1',
            [`order:${orderId}`],
          )
        )[0].n,
      );
    const paidWith = (orderId: string, customerId: string, paymentMethodId: string) =>
      payments.events.publish([
        OrderCreatedV2.create({ ...order(orderId, customerId), paymentMethodId }, { correlationId: orderId }),
        stockReserved(orderId),
      ]);
    const paymentOf = (orderId: string) => payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId });

    it('holds a token for the calling customer, sealed, under a new id each time; the answer never carries the token', async () => {
      const customerId = randomUUID();
      const held = await hold(customerId, 'tok_visa');
      expect(held).toEqual({
        paymentMethodId: expect.stringMatching(/^[\da-f-]{36}$/),
        fingerprint: expect.any(String),
      });
      expect(JSON.stringify(held)).not.toContain('tok_visa');
      const row = await vaultRow(held.paymentMethodId);
      expect(row).toMatchObject({
        customer_id: customerId,
        order_id: null,
        sealed_token: expect.stringMatching(/^kek1:/),
      });
      expect(row.sealed_token).not.toContain('tok_visa');

      // The fingerprint tells the same card of the same customer, and nothing more.
      const again = await hold(customerId, 'tok_visa');
      expect(again.paymentMethodId).not.toBe(held.paymentMethodId);
      expect(again.fingerprint).toBe(held.fingerprint);
      expect((await hold(customerId, 'tok_mastercard')).fingerprint).not.toBe(held.fingerprint);
      expect((await hold(randomUUID(), 'tok_visa')).fingerprint).not.toBe(held.fingerprint);
    });

    it('holds only for a signed-in customer, for themselves; an admin for anyone', async () => {
      const client = payments.client(PaymentsContract);
      await expect(client.holdPaymentMethod(callContext(), { token: 'tok_visa' })).rejects.toMatchObject({
        kind: 'unauthenticated',
        code: 'end-user-required',
      });
      await expect(
        client.holdPaymentMethod(asCustomer('customer-a'), { token: 'tok_visa', customerId: 'customer-b' }),
      ).rejects.toMatchObject({
        kind: 'permission-denied',
        code: 'not-this-customer',
      });
      const byAdmin = await client.holdPaymentMethod(
        { ...callContext(), caller: { subject: 'ops', roles: ['admin'] } },
        { token: 'tok_visa', customerId: 'customer-b' },
      );
      expect((await vaultRow(byAdmin.paymentMethodId)).customer_id).toBe('customer-b');
    });

    it('charges an order with the token its payment method holds, then erases the token', async () => {
      const orderId = randomUUID();
      const customerId = randomUUID();
      const { paymentMethodId } = await hold(customerId, 'tok_visa');
      await paidWith(orderId, customerId, paymentMethodId);
      expect(await paymentOf(orderId)).toMatchObject({
        status: 'COMPLETED',
        providerReference: expect.stringMatching(/^fake_ch_/),
      });
      expect(await vaultRow(paymentMethodId)).toMatchObject({ order_id: orderId, sealed_token: null });
    });

    it("declines an order that names another customer's payment method, without asking the provider; its owner still pays with it", async () => {
      const owner = randomUUID();
      const { paymentMethodId } = await hold(owner, 'tok_visa');
      const theirs = randomUUID();
      await paidWith(theirs, randomUUID(), paymentMethodId);
      expect(await paymentOf(theirs)).toMatchObject({ status: 'FAILED', failureReason: 'invalid-payment-method' });
      expect(await charges(theirs)).toBe(0);
      expect(await vaultRow(paymentMethodId)).toMatchObject({
        order_id: null,
        sealed_token: expect.stringMatching(/^kek1:/),
      });

      const mine = randomUUID();
      await paidWith(mine, owner, paymentMethodId);
      expect(await paymentOf(mine)).toMatchObject({ status: 'COMPLETED' });
    });

    it('lets a payment method pay for one order only, and declines one it never held', async () => {
      const customerId = randomUUID();
      const { paymentMethodId } = await hold(customerId, 'tok_visa');
      const [first, second, unknown] = [randomUUID(), randomUUID(), randomUUID()];
      await paidWith(first, customerId, paymentMethodId);
      await paidWith(second, customerId, paymentMethodId);
      await paidWith(unknown, customerId, randomUUID());
      expect((await paymentOf(first)).status).toBe('COMPLETED');
      for (const orderId of [second, unknown]) {
        expect(await paymentOf(orderId)).toMatchObject({ status: 'FAILED', failureReason: 'invalid-payment-method' });
        expect(await charges(orderId)).toBe(0);
      }
    });

    it('erases the token of an order that failed before it was charged, whichever came first', async () => {
      const failure = (orderId: string) =>
        OrderFailed.create(
          { orderId, customerId: randomUUID(), reason: 'out-of-stock: SOIL-MIX' },
          { correlationId: orderId },
        );
      for (const failedFirst of [false, true]) {
        const orderId = randomUUID();
        const created = await orderCreated(orderId);
        await payments.events.publish(failedFirst ? [failure(orderId), created] : [created, failure(orderId)]);
        expect(await vaultRow(created.payload.paymentMethodId)).toMatchObject({
          order_id: orderId,
          sealed_token: null,
        });
        expect(await charges(orderId)).toBe(0);
      }
    });

    it('charges an order-created v1 (what an outbox or a topic held at the upgrade): its token goes into the vault, never into the payment', async () => {
      const orderId = randomUUID();
      await payments.events.publish([orderCreatedV1(orderId, 'tok_visa')]);
      const [pending] = await asAdmin<{ token: string | null; payment_method_id: string }>(
        payments.database,
        'SELECT token, payment_method_id FROM payments.payments WHERE order_id = $1',
        [orderId],
      );
      expect(pending.token).toBeNull();
      expect(await vaultRow(pending.payment_method_id)).toMatchObject({
        order_id: orderId,
        sealed_token: expect.stringMatching(/^kek1:/),
      });

      await payments.events.publish([stockReserved(orderId)]);
      expect((await paymentOf(orderId)).status).toBe('COMPLETED');
      expect(await vaultRow(pending.payment_method_id)).toMatchObject({ sealed_token: null });
      const declined = randomUUID();
      await payments.events.publish([orderCreatedV1(declined, 'tok_decline'), stockReserved(declined)]);
      expect(await paymentOf(declined)).toMatchObject({ status: 'FAILED', failureReason: 'card-declined' });
    });

    it('charges a payment that the previous release opened with the token in plain text, and erases that token', async () => {
      const orderId = randomUUID();
      await asAdmin(
        payments.database,
        "INSERT INTO payments.payments (order_id, amount_minor, currency, token, status) VALUES ($1, 1500, 'EUR', 'tok_visa', 'PENDING')",
        [orderId],
      );
      await payments.events.publish([stockReserved(orderId)]);
      expect((await paymentOf(orderId)).status).toBe('COMPLETED');
      const [row] = await asAdmin<{ token: string | null }>(
        payments.database,
        'SELECT token FROM payments.payments WHERE order_id = $1',
        [orderId],
      );
      expect(row.token).toBeNull();
    });

    it('erases payment methods that no order took within a day', async () => {
      const stale = await hold(randomUUID(), 'tok_visa');
      const fresh = await hold(randomUUID(), 'tok_visa');
      await asAdmin(
        payments.database,
        "UPDATE payments.payment_methods SET held_at = now() - interval '25 hours' WHERE id = $1",
        [stale.paymentMethodId],
      );
      await payments.app.get(PaymentMethodVault).eraseUnused();
      expect(await vaultRow(stale.paymentMethodId)).toBeUndefined();
      expect(await vaultRow(fresh.paymentMethodId)).toBeDefined();
    });
  });

  it('answers not-found for an order it never heard of', async () => {
    await expect(
      payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId: randomUUID() }),
    ).rejects.toMatchObject({
      kind: 'not-found',
      code: 'payment-not-found',
    });
  });
});
