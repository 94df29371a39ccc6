import { randomUUID } from 'node:crypto';
import { OrderFailed } from '@contracts/ordering';
import { PaymentCompleted } from '@contracts/payments';
import { ShipmentCreated, ShippingContract } from '@contracts/shipping';
import { ShippingModule } from '@modules/shipping';
import { asAdminUser, asCustomer, callContext, startModule, type ModuleUnderTest } from '../support/module-harness';
import { asAdmin } from '../support/test-database';

describe('shipping, alone on its database', () => {
  let shipping: ModuleUnderTest;
  const api = () => shipping.client(ShippingContract);

  beforeAll(async () => {
    shipping = await startModule('shipping', ShippingModule);
  });
  afterAll(() => shipping?.close());

  const customerId = randomUUID();
  const paymentCompleted = (orderId: string) =>
    PaymentCompleted.create(
      { orderId, customerId, amount: { amountMinor: 1_500, currency: 'EUR' }, providerReference: 'fake_ch_1' },
      { correlationId: orderId },
    );
  const orderFailed = (orderId: string) =>
    OrderFailed.create(
      { orderId, customerId: randomUUID(), reason: 'saga-deadline-exceeded: waiting for shipment' },
      { correlationId: orderId },
    );
  const eventsOf = async (orderId: string) =>
    (
      await asAdmin<{ type: string }>(shipping.database, 'SELECT type FROM shipping.outbox WHERE aggregate_id = $1', [
        orderId,
      ])
    ).map((row) => row.type);

  it('creates one shipment for a paid order, however often the payment arrives', async () => {
    const orderId = randomUUID();
    await shipping.events.publish([paymentCompleted(orderId)]);
    await shipping.events.publish([paymentCompleted(orderId)]);
    const shipment = await api().getShipment(asCustomer(customerId), { orderId });
    expect(shipment).toMatchObject({ orderId, status: 'CREATED', trackingNumber: expect.stringMatching(/^FC-/) });
    expect(shipment.cancelledAt).toBeUndefined();
    expect(await eventsOf(orderId)).toEqual([ShipmentCreated.type]);
  });

  it('cancels the shipment of an order that failed after it was paid', async () => {
    const orderId = randomUUID();
    await shipping.events.publish([paymentCompleted(orderId)]);
    await shipping.events.publish([orderFailed(orderId)]);
    await shipping.events.publish([orderFailed(orderId)]); // another message id: the inbox cannot tell
    const shipment = await api().getShipment(asCustomer(customerId), { orderId });
    expect(shipment).toMatchObject({ orderId, status: 'CANCELLED', cancelledAt: expect.any(String) });
  });

  it("shows a shipment to its customer and to admins only: another customer's answers as a missing one", async () => {
    const orderId = randomUUID();
    await shipping.events.publish([paymentCompleted(orderId)]);

    await expect(api().getShipment(asCustomer(randomUUID()), { orderId })).rejects.toMatchObject({
      code: 'shipment-not-found',
    });
    await expect(api().getShipment(callContext(), { orderId })).rejects.toMatchObject({
      kind: 'unauthenticated',
      code: 'end-user-required',
    });
    expect(await api().getShipment(asAdminUser(), { orderId })).toMatchObject({ orderId, status: 'CREATED' });
    expect(await api().getShipment(asCustomer(customerId), { orderId })).not.toHaveProperty('customerId');
  });

  it("lists the shipments of many orders in one call: the caller's own, another's left out, an admin's all", async () => {
    const [mine, theirs, none] = [randomUUID(), randomUUID(), randomUUID()];
    const stranger = randomUUID();
    await shipping.events.publish([paymentCompleted(mine)]);
    await shipping.events.publish([
      PaymentCompleted.create(
        {
          orderId: theirs,
          customerId: stranger,
          amount: { amountMinor: 900, currency: 'EUR' },
          providerReference: 'x',
        },
        { correlationId: theirs },
      ),
    ]);
    const ids = (answer: { shipments: Array<{ orderId: string }> }) => answer.shipments.map((s) => s.orderId).sort();
    const orderIds = [mine, theirs, none, mine];
    expect(ids(await api().getShipments(asCustomer(customerId), { orderIds }))).toEqual([mine]);
    expect(ids(await api().getShipments(asCustomer(stranger), { orderIds }))).toEqual([theirs]);
    expect(ids(await api().getShipments(asAdminUser(), { orderIds }))).toEqual([mine, theirs].sort());
    const [shown] = (await api().getShipments(asCustomer(customerId), { orderIds: [mine] })).shipments;
    expect(shown).toEqual(await api().getShipment(asCustomer(customerId), { orderId: mine }));
    await expect(api().getShipments(callContext(), { orderIds })).rejects.toMatchObject({
      code: 'end-user-required',
    });
    await expect(
      api().getShipments(asAdminUser(), { orderIds: Array.from({ length: 101 }, () => randomUUID()) }),
    ).rejects.toMatchObject({ kind: 'invalid-argument' });
  });

  it('creates no shipment when the failure arrives before the payment', async () => {
    const orderId = randomUUID();
    await shipping.events.publish([orderFailed(orderId)]);
    await shipping.events.publish([paymentCompleted(orderId)]);
    await expect(api().getShipment(asCustomer(customerId), { orderId })).rejects.toMatchObject({
      code: 'shipment-not-found',
    });
    expect(await eventsOf(orderId)).toEqual([]);
    expect(await shipping.registry.get('shipping')!.deadLetters.list()).toEqual([]);
  });

  it('leaves no live shipment when the failure and the payment arrive at the same moment', async () => {
    const orderIds = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(
      orderIds.flatMap((id) => [
        shipping.events.publish([paymentCompleted(id)]),
        shipping.events.publish([orderFailed(id)]),
      ]),
    );
    const live = await asAdmin(
      shipping.database,
      "SELECT order_id FROM shipping.shipments WHERE order_id = ANY($1) AND status <> 'CANCELLED'",
      [orderIds],
    );
    expect(live).toEqual([]);
  });
});
