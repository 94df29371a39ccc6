import { randomUUID } from 'node:crypto';
import type { Envelope } from '@contracts/kernel';
import { OrderingContract } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import { ContractBus, InProcessEventTransport } from '@infra/messaging';
import { kafkaMessageOf } from '@infra/messaging/kafka';
import { openModuleDataSource, provisionContext, type MigrationClass } from '@infra/persistence';
import { KeyEncryption } from '@infra/security';
import { CreateOrderEventStore1764000000300 } from '../../modules/ordering/src/persistence/migrations/1764000000300-create-order-event-store';
import { IndexPendingOrders1764000000301 } from '../../modules/ordering/src/persistence/migrations/1764000000301-index-pending-orders';
import { ExpireIdempotencyKeys1764000000302 } from '../../modules/ordering/src/persistence/migrations/1764000000302-expire-idempotency-keys';
import { ScrubCardTokens1764000000303 } from '../../modules/ordering/src/persistence/migrations/1764000000303-scrub-card-tokens';
import { CreatePayments1764000000400 } from '../../modules/payments/src/persistence/migrations/1764000000400-create-payments';
import { LearnPaymentFactsInAnyOrder1764000000401 } from '../../modules/payments/src/persistence/migrations/1764000000401-learn-payment-facts-in-any-order';
import { RefundPaymentsOfFailedOrders1764000000402 } from '../../modules/payments/src/persistence/migrations/1764000000402-refund-payments-of-failed-orders';
import { VaultPaymentMethods1764000000403 } from '../../modules/payments/src/persistence/migrations/1764000000403-vault-payment-methods';
import { ErasePlainCardTokens1764000000404 } from '../../modules/payments/src/persistence/migrations/1764000000404-erase-plain-card-tokens';
import { eventually } from '../support/eventually';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin, freshDatabase } from '../support/test-database';

/**
 * Card tokens are secrets (issue 15, item 2; ADR 0037): POST /orders hands the token to payments'
 * vault, and nothing else of the shop keeps it or passes it on. Orders go through the public API
 * of the whole shop in one process; what every context stored, and what a Kafka consumer would
 * receive, is read back and searched for the token.
 */
describe('card tokens at rest and in events (monolith, over HTTP)', () => {
  let shop: RunningShop;
  let customer: ShopClient & { customerId: string };
  /** Every order-created an in-process consumer was handed, by version: what the relay also sends to Kafka. */
  const delivered: Record<'v1' | 'v2', Envelope[]> = { v1: [], v2: [] };

  beforeAll(async () => {
    shop = await startShop('card_tokens');
    customer = await new ShopClient(shop.baseUrl).signUp();
    const events = shop.app.get(InProcessEventTransport);
    for (const version of ['v1', 'v2'] as const) {
      events.subscribe({
        consumer: `test:kafka-eye:${version}`,
        eventKey: `ordering.order-created.${version}`,
        deliver: async (envelope) => {
          delivered[version].push(envelope);
          return { outcome: 'processed' };
        },
      });
    }
  });
  afterAll(() => shop?.close());

  const items = [{ sku: 'SOIL-MIX', quantity: 1 }];
  const asCustomer = (subject: string) => ({
    correlationId: randomUUID(),
    deadline: Date.now() + 10_000,
    caller: { subject, roles: ['customer'] },
  });
  const contracts = () => shop.app.get(ContractBus);

  /** Every row of every table of every context whose text holds `needle`, as `schema.table`. */
  async function tablesHolding(needle: string): Promise<string[]> {
    const tables = await asAdmin<{ schema: string; name: string }>(
      shop.database,
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    expect(tables.map((t) => `${t.schema}.${t.name}`)).toEqual(
      expect.arrayContaining(['ordering.order_events', 'payments.outbox', 'payments.payment_methods']),
    );
    const holding: string[] = [];
    for (const { schema, name } of tables) {
      const [row] = await asAdmin<{ n: string }>(
        shop.database,
        `SELECT count(*) AS n FROM "${schema}"."${name}" t WHERE to_jsonb(t)::text LIKE $1`,
        [`%${needle}%`],
      );
      if (Number(row.n) > 0) holding.push(`${schema}.${name}`);
    }
    return holding;
  }

  const eventStore = (orderId: string) =>
    asAdmin<{ type: string; version: number; payload: Record<string, unknown> }>(
      shop.database,
      'SELECT type, version, payload FROM ordering.order_events WHERE aggregate_id = $1 ORDER BY stream_version',
      [orderId],
    );

  it('an approved test token confirms its order; no table of any context, no order-created row and no Kafka record holds the token', async () => {
    const placed = await customer.placeOrder(items, 'tok_visa');
    expect(placed.status).toBe(202);
    const { orderId } = placed.body;
    expect(await customer.finalOrder(orderId)).toMatchObject({ status: 'CONFIRMED' });

    // The event store (which is ordering's outbox): order-created v2, naming a payment method.
    const [created] = await eventStore(orderId);
    expect({ type: created.type, version: created.version }).toEqual({ type: 'ordering.order-created', version: 2 });
    expect(Object.keys(created.payload).sort()).toEqual(['customerId', 'items', 'orderId', 'paymentMethodId', 'total']);

    // What consumers were handed, and what Kafka would carry: key, value and headers.
    const envelope = await eventually(() => delivered.v2.find((e) => e.aggregateId === orderId), { until: Boolean });
    const record = kafkaMessageOf(envelope!);
    expect(JSON.stringify({ key: record.key, value: record.value, headers: record.headers })).not.toContain('tok_visa');
    expect(JSON.parse(String(record.value))).toMatchObject({
      type: 'ordering.order-created',
      version: 2,
      payload: { paymentMethodId: created.payload.paymentMethodId },
    });
    expect(delivered.v1).toEqual([]);

    // Outboxes, inboxes, dead letters, read models, the vault, the provider's books: nowhere.
    expect(await tablesHolding('tok_visa')).toEqual([]);
  });

  it('a declined test token fails its order, nothing shipped, and leaves the token nowhere either', async () => {
    const placed = await customer.placeOrder(items, 'tok_decline');
    expect(await customer.finalOrder(placed.body.orderId)).toMatchObject({
      status: 'FAILED',
      failureReason: 'payment-failed',
    });
    const payment = await customer.get(`/orders/${placed.body.orderId}/payment`);
    expect(payment.body).toMatchObject({ status: 'FAILED', failureReason: 'card-declined' });
    expect(await tablesHolding('tok_decline')).toEqual([]);
  });

  it("the vault keeps a held token sealed, opened only with the key-encryption key, and erases it once the order's payment settled", async () => {
    const held = await contracts()
      .client(PaymentsContract)
      .holdPaymentMethod(asCustomer(customer.customerId), { token: 'tok_mastercard' });
    const vaultRow = async () =>
      (
        await asAdmin<{ sealed_token: string | null; order_id: string | null }>(
          shop.database,
          'SELECT sealed_token, order_id FROM payments.payment_methods WHERE id = $1',
          [held.paymentMethodId],
        )
      )[0];
    const { sealed_token: sealed } = await vaultRow();
    expect(sealed).toMatch(/^kek1:/);
    expect(sealed).not.toContain('tok_mastercard');
    expect(await tablesHolding('tok_mastercard')).toEqual([]);
    // This is the token, sealed under the shop's key and bound to its row.
    expect(KeyEncryption.fromEnv(process.env).open(sealed!, `payments.payment_methods:${held.paymentMethodId}`)).toBe(
      'tok_mastercard',
    );

    const { orderId } = await contracts()
      .client(OrderingContract)
      .placeOrderWithPaymentMethod(asCustomer(customer.customerId), {
        customerId: customer.customerId,
        items,
        paymentMethodId: held.paymentMethodId,
      });
    expect(await customer.finalOrder(orderId)).toMatchObject({ status: 'CONFIRMED' });
    expect(await vaultRow()).toEqual({ sealed_token: null, order_id: orderId });
  });

  it("another customer's payment method pays for nothing: the order fails, nothing is charged, and its owner still pays with it", async () => {
    const owner = customer;
    const other = await new ShopClient(shop.baseUrl).signUp();
    const held = await contracts()
      .client(PaymentsContract)
      .holdPaymentMethod(asCustomer(owner.customerId), { token: 'tok_visa' });

    // The public API takes a card token only: an id in the body is refused.
    const byId = await other.post('/orders', { items, paymentMethodId: held.paymentMethodId });
    expect(byId.status).toBe(422);
    // Past the edge, through ordering's contract as the other customer.
    const { orderId } = await contracts()
      .client(OrderingContract)
      .placeOrderWithPaymentMethod(asCustomer(other.customerId), {
        customerId: other.customerId,
        items,
        paymentMethodId: held.paymentMethodId,
      });
    expect(await other.finalOrder(orderId)).toMatchObject({ status: 'FAILED', failureReason: 'payment-failed' });
    expect((await other.get(`/orders/${orderId}/payment`)).body).toMatchObject({
      status: 'FAILED',
      failureReason: 'invalid-payment-method',
    });
    const [charges] = await asAdmin<{ n: string }>(
      shop.database,
      'SELECT count(*) AS n FROM payments.fake_provider_charges WHERE idempotency_key = $1',
      [`order:${orderId}`],
    );
    expect(Number(charges.n)).toBe(0);

    const mine = await contracts().client(OrderingContract).placeOrderWithPaymentMethod(asCustomer(owner.customerId), {
      customerId: owner.customerId,
      items,
      paymentMethodId: held.paymentMethodId,
    });
    expect(await owner.finalOrder(mine.orderId)).toMatchObject({ status: 'CONFIRMED' });
  });

  it('an Idempotency-Key replay answers the same order and charges once; the same key with another card is refused', async () => {
    const key = randomUUID();
    const first = await customer.placeOrder(items, 'tok_visa', { 'Idempotency-Key': key });
    expect(first.body.replayed).toBe(false);
    await customer.finalOrder(first.body.orderId);
    const replay = await customer.placeOrder(items, 'tok_visa', { 'Idempotency-Key': key });
    expect(replay.body).toMatchObject({ orderId: first.body.orderId, replayed: true, status: 'CONFIRMED' });
    const otherCard = await customer.placeOrder(items, 'tok_mastercard', { 'Idempotency-Key': key });
    expect(otherCard).toMatchObject({ status: 422, body: { code: 'idempotency-key-reused' } });
    const [charges] = await asAdmin<{ n: string }>(
      shop.database,
      'SELECT count(*) AS n FROM payments.fake_provider_charges WHERE idempotency_key = $1',
      [`order:${first.body.orderId}`],
    );
    expect(Number(charges.n)).toBe(1);
  });

  it("the timeline shows neither a token nor the payment method's id", async () => {
    const placed = await customer.placeOrder(items, 'tok_visa');
    await customer.finalOrder(placed.body.orderId);
    const [created] = await eventStore(placed.body.orderId);
    const timeline = await customer.get(`/orders/${placed.body.orderId}/timeline`);
    expect(timeline.status).toBe(200);
    const text = JSON.stringify(timeline.body);
    expect(text).toContain('ORDER_CREATED');
    expect(text).not.toContain(String(created.payload.paymentMethodId));
    expect(text).not.toMatch(/paymentToken|paymentMethodId|tok_/);
  });
});

describe('card tokens that earlier releases stored in plain text', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    fresh = await freshDatabase('card_tokens_upgrade');
  });
  afterAll(() => fresh?.drop());

  const urls = new Map<string, Promise<string>>();
  /** A release of a context starting: it runs the migrations it ships that are still pending. */
  async function start(context: string, migrations: MigrationClass[]): Promise<void> {
    if (!urls.has(context)) urls.set(context, provisionContext(fresh.config, context));
    const dataSource = await openModuleDataSource({
      context,
      url: await urls.get(context)!,
      entities: [],
      migrations,
      poolSize: 2,
    });
    await dataSource.destroy();
  }

  it("are scrubbed from ordering's published order-created v1 events; one not yet published keeps its token for payments", async () => {
    const before = [
      CreateOrderEventStore1764000000300,
      IndexPendingOrders1764000000301,
      ExpireIdempotencyKeys1764000000302,
    ];
    await start('ordering', before);
    // More events than one batch of the migration, as the previous release stored them.
    await asAdmin(
      fresh.config,
      `INSERT INTO ordering.order_events (message_id, type, version, aggregate_id, correlation_id, payload, occurred_at, stream_version, published_at)
       SELECT gen_random_uuid(), CASE WHEN n % 2 = 0 THEN 'ordering.order-created' ELSE 'ordering.stock-reserved' END, 1, 'order-' || n, 'c',
              CASE WHEN n % 2 = 0 THEN jsonb_build_object('orderId', 'order-' || n, 'customerId', 'c', 'items', '[]'::jsonb,
                                                          'total', '{"amountMinor": 1, "currency": "EUR"}'::jsonb, 'paymentToken', 'tok_visa')
                   ELSE jsonb_build_object('orderId', 'order-' || n) END,
              now(), 1, CASE WHEN n = 2500 THEN NULL ELSE now() END
         FROM generate_series(1, 2500) AS n`,
    );
    await start('ordering', [...before, ScrubCardTokens1764000000303]);

    const holding = await asAdmin<{ aggregate_id: string; published: boolean }>(
      fresh.config,
      "SELECT aggregate_id, published_at IS NOT NULL AS published FROM ordering.order_events WHERE payload ? 'paymentToken'",
    );
    expect(holding).toEqual([{ aggregate_id: 'order-2500', published: false }]);
    const [scrubbed] = await asAdmin<{ payload: unknown }>(
      fresh.config,
      "SELECT payload FROM ordering.order_events WHERE aggregate_id = 'order-2'",
    );
    expect(scrubbed.payload).toEqual({
      orderId: 'order-2',
      customerId: 'c',
      items: [],
      total: { amountMinor: 1, currency: 'EUR' },
    });
  });

  it('are erased from payments that no charge needs any more; a pending one keeps its token until it is charged', async () => {
    const before = [
      CreatePayments1764000000400,
      LearnPaymentFactsInAnyOrder1764000000401,
      RefundPaymentsOfFailedOrders1764000000402,
    ];
    await start('payments', before);
    await asAdmin(
      fresh.config,
      `INSERT INTO payments.payments (order_id, amount_minor, currency, token, status, order_failed)
       SELECT gen_random_uuid(), 100, 'EUR', 'tok_visa', (ARRAY['COMPLETED', 'FAILED', 'PENDING', 'PENDING'])[n % 4 + 1], n % 4 = 3
         FROM generate_series(1, 2400) AS n`,
    );
    await start('payments', [...before, VaultPaymentMethods1764000000403, ErasePlainCardTokens1764000000404]);

    const left = await asAdmin<{ status: string; order_failed: boolean; with_token: string; without: string }>(
      fresh.config,
      `SELECT status, order_failed, count(*) FILTER (WHERE token IS NOT NULL) AS with_token, count(*) FILTER (WHERE token IS NULL) AS without
         FROM payments.payments GROUP BY status, order_failed ORDER BY status, order_failed`,
    );
    expect(left).toEqual([
      { status: 'COMPLETED', order_failed: false, with_token: '0', without: '600' },
      { status: 'FAILED', order_failed: false, with_token: '0', without: '600' },
      { status: 'PENDING', order_failed: false, with_token: '600', without: '0' },
      { status: 'PENDING', order_failed: true, with_token: '0', without: '600' },
    ]);
  });
});
