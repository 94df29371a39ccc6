import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { InventoryContract, StockReleased, StockReserved } from '@contracts/inventory';
import { ContractError, type Envelope } from '@contracts/kernel';
import { OrderCreated, OrderCreatedV2, OrderFailed } from '@contracts/ordering';
import { PaymentFailed } from '@contracts/payments';
import { CommandBus } from '@nestjs/cqrs';
import { InventoryModule } from '@modules/inventory';
import { ReserveStockCommand } from '../../modules/inventory/src/application/reserve-stock/reserve-stock.command';
import { provisionContext } from '@infra/persistence';
import { eventually } from '../support/eventually';
import { asAdminUser, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

describe('inventory, alone on its database', () => {
  let inventory: ModuleUnderTest;
  // Called as the order saga's owner: reserving and releasing are ordering's steps, nobody else's.
  const api = () => inventory.client(InventoryContract, 'ordering');

  beforeAll(async () => {
    inventory = await startModule('inventory', InventoryModule);
  });
  afterAll(() => inventory?.close());

  const restockNew = async (quantity: number) => {
    const sku = `TEST-${randomUUID().slice(0, 8).toUpperCase()}`;
    await api().restock(asAdminUser(), { sku, quantity });
    return sku;
  };
  const level = async (sku: string) => (await api().checkStock(callContext(), { skus: [sku] })).levels[0];

  it('reserves all or nothing', async () => {
    const plenty = await restockNew(5);
    const scarce = await restockNew(1);
    const orderId = randomUUID();
    const answer = await api().reserveStock(callContext(), {
      orderId,
      items: [
        { sku: plenty, quantity: 2 },
        { sku: scarce, quantity: 2 },
      ],
    });
    expect(answer).toEqual({ reserved: false, unavailableSkus: [scarce] });
    expect(await level(plenty)).toEqual({ sku: plenty, available: 5, reserved: 0 });
    expect(await level(scarce)).toEqual({ sku: scarce, available: 1, reserved: 0 });
  });

  it('reserves once per order id, however often asked, and releases once', async () => {
    const sku = await restockNew(10);
    const orderId = randomUUID();
    const request = { orderId, items: [{ sku, quantity: 3 }] };
    const answers = await Promise.all([1, 2, 3].map(() => api().reserveStock(callContext(), request)));
    expect(answers).toEqual(Array(3).fill({ reserved: true, unavailableSkus: [] }));
    expect(await level(sku)).toEqual({ sku, available: 7, reserved: 3 });

    const releases = await Promise.all(
      [1, 2].map(() => api().releaseStock(callContext(), { orderId, reason: 'test' })),
    );
    expect(releases.filter((r) => r.released)).toHaveLength(1);
    expect(await level(sku)).toEqual({ sku, available: 10, reserved: 0 });
  });

  it('never lets stock go negative under 50 concurrent reservations for 10 units', async () => {
    const sku = await restockNew(10);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        api().reserveStock(callContext(), { orderId: randomUUID(), items: [{ sku, quantity: 1 }] }),
      ),
    );
    expect(answers.filter((a) => a.reserved)).toHaveLength(10);
    expect(await level(sku)).toEqual({ sku, available: 0, reserved: 10 });
  });

  it('streams the current level, then each committed change (WatchStock)', async () => {
    const sku = await restockNew(4);
    const updates = api().watchStock(callContext(), { skus: [sku] });
    const stream = updates[Symbol.asyncIterator]();
    const first = await stream.next();
    expect(first.value).toMatchObject({ sku, available: 4, reserved: 0 });
    await api().reserveStock(callContext(), { orderId: randomUUID(), items: [{ sku, quantity: 3 }] });
    const second = await stream.next();
    expect(second.value).toMatchObject({ sku, available: 1, reserved: 3 });
    await stream.return?.();
  });

  it('announces a change to watchers only when the transaction it joined commits, never one rolled back', async () => {
    // As a saga step reserves: inside a transaction already open (its inbox's), where the handler's
    // own `transaction()` joins it and returns before anything commits.
    const sku = await restockNew(4);
    const updates = api().watchStock(callContext(), { skus: [sku] });
    const stream = updates[Symbol.asyncIterator]();
    expect((await stream.next()).value).toMatchObject({ sku, available: 4, reserved: 0 });
    const uow = inventory.registry.get('inventory')!.uow;
    const commands = inventory.app.get(CommandBus);
    const reserve = (quantity: number) =>
      commands.execute(new ReserveStockCommand(randomUUID(), [{ sku, quantity }], { correlationId: randomUUID() }));

    await expect(
      uow.transaction(async () => {
        expect(await reserve(3)).toEqual({ reserved: true, unavailableSkus: [] });
        throw new Error('the inbox transaction fails after the step');
      }),
    ).rejects.toThrow('the inbox transaction fails after the step');
    await uow.transaction(() => reserve(1));

    // The first change a watcher sees is the committed one, not the rolled-back 1 / 3.
    expect((await stream.next()).value).toMatchObject({ sku, available: 3, reserved: 1 });
    expect(await level(sku)).toEqual({ sku, available: 3, reserved: 1 });
    await stream.return?.();
  });

  it('refuses a restock past what a SKU can hold with stock-limit, and changes nothing', async () => {
    const sku = await restockNew(5);
    await asAdmin(inventory.database, 'UPDATE inventory.stock SET on_hand = $2 WHERE sku = $1', [
      sku,
      2_147_483_647 - 10,
    ]);
    await expect(api().restock(asAdminUser(), { sku, quantity: 11 })).rejects.toMatchObject({
      kind: 'failed-precondition',
      code: 'stock-limit',
    });
    expect(await level(sku)).toEqual({ sku, available: 2_147_483_637, reserved: 0 });
    expect(await api().restock(asAdminUser(), { sku, quantity: 10 })).toMatchObject({ available: 2_147_483_647 });
  });

  it('answers a bad request with a typed error, not a crash', async () => {
    await expect(api().reserveStock(callContext(), { orderId: 'not-a-uuid', items: [] })).rejects.toMatchObject({
      kind: 'invalid-argument',
      code: 'invalid-request',
    });
    await expect(api().checkStock(callContext(), { skus: [] })).rejects.toBeInstanceOf(ContractError);
  });

  it('reserves stock for an order-created v1 too (what an outbox or a topic held when v2 came)', async () => {
    const sku = await restockNew(1);
    const { paymentMethodId: _v2, ...order } = validOrder(sku);
    const v1 = OrderCreated.create({ ...order, paymentToken: 'tok_visa' }, { correlationId: 'corr-v1' });
    await inventory.events.publish([v1]);
    expect(await level(sku)).toEqual({ sku, available: 0, reserved: 1 });
    expect(
      (await inventory.registry.get('inventory')!.deadLetters.list()).map((letter) => letter.messageId),
    ).not.toContain(v1.id);
  });

  it('reserves stock when an order is created, and announces it through its outbox', async () => {
    const sku = await restockNew(2);
    const orderId = randomUUID();
    const created = OrderCreatedV2.create(
      {
        orderId,
        customerId: randomUUID(),
        items: [{ sku, quantity: 2, unitPrice: { amountMinor: 100, currency: 'EUR' } }],
        total: { amountMinor: 200, currency: 'EUR' },
        paymentMethodId: randomUUID(),
      },
      { correlationId: 'corr-1' },
    );
    await inventory.events.publish([created]);
    expect(await level(sku)).toEqual({ sku, available: 0, reserved: 2 });
    const [event] = await asAdmin<{ type: string; causation_id: string; correlation_id: string; payload: unknown }>(
      inventory.database,
      'SELECT type, causation_id, correlation_id, payload FROM inventory.outbox WHERE aggregate_id = $1',
      [orderId],
    );
    expect(event).toEqual({
      type: StockReserved.type,
      causation_id: created.id,
      correlation_id: 'corr-1',
      payload: { orderId, items: [{ sku, quantity: 2 }] },
    });
    await eventually(
      () =>
        asAdmin<{ published_at: Date | null }>(
          inventory.database,
          'SELECT published_at FROM inventory.outbox WHERE aggregate_id = $1',
          [orderId],
        ),
      { until: (rows) => rows[0]?.published_at !== null, what: 'the relay marks the row sent' },
    );
  });

  it('moves a poison message to its dead letters and keeps going; replaying it unchanged fails again', async () => {
    const poison: Envelope = {
      ...OrderCreatedV2.create(validOrder('POISON-1'), { correlationId: 'c' }),
      payload: { orderId: 'nope' },
    };
    const sku = await restockNew(1);
    const next = OrderCreatedV2.create(validOrder(sku), { correlationId: 'c' });
    await inventory.events.publish([poison, next]);

    const runtime = inventory.registry.get('inventory')!;
    const letters = await runtime.deadLetters.list();
    expect(letters).toEqual([
      expect.objectContaining({
        messageId: poison.id,
        reason: expect.stringMatching(/^poison: payload does not match/),
      }),
    ]);
    expect(await level(sku)).toEqual({ sku, available: 0, reserved: 1 });
    expect(await runtime.deadLetters.replay(letters[0].id, 'admin-subject')).toBe('failed-again');
    expect(await runtime.deadLetters.replay('999999', 'admin-subject')).toBe('not-found');
  });

  it("keeps a failed replay's reason as short as any reason, however long the error it met", async () => {
    const runtime = inventory.registry.get('inventory')!;
    const poison: Envelope = {
      ...OrderCreatedV2.create(validOrder('POISON-2'), { correlationId: 'c' }),
      // Hundreds of bad lines: the schema's error names each of them.
      payload: { ...validOrder('POISON-2'), items: Array.from({ length: 400 }, () => ({ sku: 7, quantity: 'x' })) },
    };
    await inventory.events.publish([poison]);
    const letter = (await runtime.deadLetters.list()).find((each) => each.messageId === poison.id)!;
    expect(await runtime.deadLetters.replay(letter.id, 'admin-subject')).toBe('failed-again');
    const again = (await runtime.deadLetters.list()).find((each) => each.messageId === poison.id)!;
    expect(again.reason).toMatch(/^replay failed: /);
    expect(again.reason.length).toBeLessThanOrEqual(1_100);
  });

  describe('when an order fails (saga compensation)', () => {
    const orderFailed = (orderId: string, reason = 'saga-deadline-exceeded: waiting for payment, shipment') =>
      OrderFailed.create({ orderId, customerId: randomUUID(), reason }, { correlationId: orderId });
    const eventsOf = async (orderId: string) =>
      (
        await asAdmin<{ type: string; payload: { reason?: string } }>(
          inventory.database,
          'SELECT type, payload FROM inventory.outbox WHERE aggregate_id = $1 ORDER BY seq',
          [orderId],
        )
      ).map((row) => (row.type === StockReleased.type ? `${row.type} (${row.payload.reason})` : row.type));

    it('gives back the stock the order still holds, once, and announces it once', async () => {
      const sku = await restockNew(5);
      const order = validOrder(sku);
      await inventory.events.publish([
        OrderCreatedV2.create({ ...order, items: [{ ...order.items[0], quantity: 3 }] }, { correlationId: 'c' }),
      ]);
      expect(await level(sku)).toEqual({ sku, available: 2, reserved: 3 });

      await inventory.events.publish([orderFailed(order.orderId)]);
      // Delivered again under another message id (the inbox cannot tell): still one release.
      await inventory.events.publish([orderFailed(order.orderId)]);

      expect(await level(sku)).toEqual({ sku, available: 5, reserved: 0 });
      expect(await eventsOf(order.orderId)).toEqual([
        StockReserved.type,
        `${StockReleased.type} (order-failed: saga-deadline-exceeded: waiting for payment, shipment)`,
      ]);
    });

    it('has nothing to give back when the stock was already released after a failed payment', async () => {
      const sku = await restockNew(2);
      const order = validOrder(sku);
      await inventory.events.publish([OrderCreatedV2.create(order, { correlationId: 'c' })]);
      await inventory.events.publish([
        PaymentFailed.create(
          { orderId: order.orderId, amount: order.total, reason: 'card-declined' },
          { correlationId: 'c' },
        ),
      ]);
      await inventory.events.publish([orderFailed(order.orderId, 'payment-failed')]);
      expect(await level(sku)).toEqual({ sku, available: 2, reserved: 0 });
      expect(await eventsOf(order.orderId)).toEqual([StockReserved.type, `${StockReleased.type} (payment-failed)`]);
      // Asked again for the order (a step delivered twice): its stock was given back, so not reserved.
      expect(
        await api().reserveStock(callContext(), { orderId: order.orderId, items: [{ sku, quantity: 1 }] }),
      ).toEqual({ reserved: false, unavailableSkus: [] });
      expect(await level(sku)).toEqual({ sku, available: 2, reserved: 0 });
    });

    it('has nothing to give back when the order was out of stock', async () => {
      const sku = await restockNew(1);
      const order = validOrder(sku);
      await inventory.events.publish([
        OrderCreatedV2.create({ ...order, items: [{ ...order.items[0], quantity: 2 }] }, { correlationId: 'c' }),
      ]);
      await inventory.events.publish([orderFailed(order.orderId, `out-of-stock: ${sku}`)]);
      expect(await level(sku)).toEqual({ sku, available: 1, reserved: 0 });
      expect(await eventsOf(order.orderId)).toEqual(['inventory.stock-reservation-failed']);
    });

    it('never reserves for an order whose failure arrived before its creation', async () => {
      const sku = await restockNew(2);
      const order = validOrder(sku);
      await inventory.events.publish([orderFailed(order.orderId)]);
      await inventory.events.publish([OrderCreatedV2.create(order, { correlationId: 'c' })]);
      expect(await level(sku)).toEqual({ sku, available: 2, reserved: 0 });
      expect(await eventsOf(order.orderId)).toEqual([]);
      expect(
        await api().reserveStock(callContext(), { orderId: order.orderId, items: [{ sku, quantity: 1 }] }),
      ).toEqual({
        reserved: false,
        unavailableSkus: [],
      });
      const letters = await inventory.registry.get('inventory')!.deadLetters.list();
      expect(letters.filter((letter) => letter.envelope.aggregateId === order.orderId)).toEqual([]);
    });

    it('releases a reservation made at the same moment as the failure arrives', async () => {
      const sku = await restockNew(20);
      const orders = Array.from({ length: 10 }, () => validOrder(sku));
      await Promise.all(
        orders.flatMap((order) => [
          inventory.events.publish([OrderCreatedV2.create(order, { correlationId: 'c' })]),
          inventory.events.publish([orderFailed(order.orderId)]),
        ]),
      );
      expect(await level(sku)).toEqual({ sku, available: 20, reserved: 0 });
    });
  });

  it("connects as a role that cannot read another context's schema", async () => {
    const orderingUrl = await provisionContext(inventory.database, 'ordering');
    const ordering = new Client({ connectionString: orderingUrl });
    await ordering.connect();
    await ordering.query('CREATE TABLE ordering.secrets (x int)');
    await ordering.end();

    const runtime = inventory.registry.get('inventory')!;
    await expect(runtime.dataSource.query('SELECT * FROM ordering.secrets')).rejects.toThrow(
      'permission denied for schema ordering',
    );
    await expect(runtime.dataSource.query('CREATE TABLE public.sneaky (x int)')).rejects.toThrow(
      'permission denied for schema public',
    );
  });
});

function validOrder(sku: string) {
  return {
    orderId: randomUUID(),
    customerId: randomUUID(),
    items: [{ sku, quantity: 1, unitPrice: { amountMinor: 100, currency: 'EUR' } }],
    total: { amountMinor: 100, currency: 'EUR' },
    paymentMethodId: randomUUID(),
  };
}
