import { Order, OrderRuleViolation, SAGA_DEADLINE_EXCEEDED } from './order';
import type { OrderEventType, OrderLineData, StoredOrderEvent } from './order-events';

const AT = '2025-01-01T10:00:00.000Z';
const LATER = '2025-01-01T10:05:00.000Z';
const eur = (amountMinor: number) => ({ amountMinor, currency: 'EUR' });
const PAYMENT_METHOD = '5f0c2b1e-8d7a-4c3b-9e2f-1a0b9c8d7e6f';

const lines: OrderLineData[] = [
  { sku: 'FICUS-LYRATA', quantity: 2, unitPrice: eur(3_900) },
  { sku: 'SOIL-MIX', quantity: 3, unitPrice: eur(750) },
];

function placeOrder(items: OrderLineData[] = lines): Order {
  return Order.place(
    { orderId: 'order-1', customerId: 'customer-1', items, payment: { paymentMethodId: PAYMENT_METHOD } },
    AT,
  );
}

/** A placed order whose order-created event is already stored, so pending holds only what follows. */
function storedOrder(): Order {
  const order = placeOrder();
  order.takePendingEvents();
  return order;
}

const typesOf = (order: Order): OrderEventType[] => order.takePendingEvents().map((pending) => pending.event.type);

type Step = 'stock' | 'payment' | 'shipment';
const record: Record<Step, (order: Order) => void> = {
  stock: (order) => order.recordStockReserved(LATER),
  payment: (order) => order.recordPaymentCompleted('psp-1', LATER),
  shipment: (order) => order.recordShipmentCreated('FC-1234-5678-90', LATER),
};

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('Order.place', () => {
  it('computes the total from the lines and records order-created', () => {
    const order = placeOrder();
    expect(order.total).toEqual(eur(2 * 3_900 + 3 * 750));
    expect(order.status).toBe('PENDING');
    expect(order.id).toBe('order-1');
    expect(order.customerId).toBe('customer-1');
    expect(order.createdAt).toBe(AT);
    const pending = order.takePendingEvents();
    expect(pending).toHaveLength(1);
    expect(pending[0]).toEqual({
      occurredAt: AT,
      event: {
        type: 'ordering.order-created',
        version: 2,
        data: {
          orderId: 'order-1',
          customerId: 'customer-1',
          items: lines,
          total: eur(10_050),
          paymentMethodId: PAYMENT_METHOD,
        },
      },
    });
    expect(order.version).toBe(0);
  });

  it('records order-created v1 with the token only when handed one (callers of the released placeOrder)', () => {
    const order = Order.place(
      { orderId: 'order-1', customerId: 'customer-1', items: lines, payment: { paymentToken: 'tok_ok' } },
      AT,
    );
    const [created] = order.takePendingEvents();
    expect(created.event).toEqual({
      type: 'ordering.order-created',
      version: 1,
      data: { orderId: 'order-1', customerId: 'customer-1', items: lines, total: eur(10_050), paymentToken: 'tok_ok' },
    });
  });

  it('rebuilds from a v1 order-created whose token was scrubbed', () => {
    const order = Order.fromHistory([
      {
        event: {
          type: 'ordering.order-created',
          version: 1,
          data: { orderId: 'order-1', customerId: 'customer-1', items: lines, total: eur(10_050) },
        },
        version: 1,
        occurredAt: AT,
      },
    ]);
    expect({ id: order.id, total: order.total, status: order.status }).toEqual({
      id: 'order-1',
      total: eur(10_050),
      status: 'PENDING',
    });
  });

  it('rejects lines priced in more than one currency', () => {
    expect(() =>
      placeOrder([
        { sku: 'FICUS-LYRATA', quantity: 1, unitPrice: eur(3_900) },
        { sku: 'SOIL-MIX', quantity: 1, unitPrice: { amountMinor: 750, currency: 'USD' } },
      ]),
    ).toThrow(OrderRuleViolation);
  });

  it('rejects an order without lines', () => {
    expect(() => placeOrder([])).toThrow(OrderRuleViolation);
  });
});

describe('Order saga', () => {
  it.each(permutations<Step>(['stock', 'payment', 'shipment']))(
    'confirms only once stock, payment and shipment are all in (arrival %s, %s, %s)',
    (...arrival: Step[]) => {
      const order = storedOrder();
      const [first, second, third] = arrival;
      record[first](order);
      expect(order.status).toBe('PENDING');
      record[second](order);
      expect(order.status).toBe('PENDING');
      record[third](order);
      expect(order.status).toBe('CONFIRMED');
      const types = typesOf(order);
      expect(types).toHaveLength(4);
      expect(types[3]).toBe('ordering.order-confirmed');
      expect(types.filter((type) => type === 'ordering.order-confirmed')).toHaveLength(1);
    },
  );

  it('the confirmation carries the customer and the total', () => {
    const order = storedOrder();
    record.stock(order);
    record.payment(order);
    record.shipment(order);
    const confirmed = order.takePendingEvents().at(-1)!;
    expect(confirmed.event).toEqual({
      type: 'ordering.order-confirmed',
      data: { orderId: 'order-1', customerId: 'customer-1', total: eur(10_050) },
    });
    expect(order.updatedAt).toBe(LATER);
  });

  it('fails at once when stock is unavailable, naming the skus', () => {
    const order = storedOrder();
    order.recordStockUnavailable(['LIMITED-POT', 'SOIL-MIX'], LATER);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toMatch(/^out-of-stock/);
    expect(order.failureReason).toContain('LIMITED-POT');
    expect(typesOf(order)).toEqual(['ordering.stock-unavailable', 'ordering.order-failed']);
  });

  it('after a failed payment stays PENDING until stock is released, then FAILS with payment-failed', () => {
    const order = storedOrder();
    order.recordStockReserved(LATER);
    order.recordPaymentFailed('card declined', LATER);
    expect(order.status).toBe('PENDING');
    order.recordStockReleased(LATER);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toBe('payment-failed');
    expect(typesOf(order)).toEqual([
      'ordering.stock-reserved',
      'ordering.payment-failed',
      'ordering.stock-released',
      'ordering.order-failed',
    ]);
  });

  it('fails with payment-failed when the stock release arrives before the failed payment', () => {
    const order = storedOrder();
    order.recordStockReleased(LATER);
    expect(order.status).toBe('PENDING');
    order.recordPaymentFailed('card declined', LATER);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toBe('payment-failed');
    expect(typesOf(order)).toEqual(['ordering.stock-released', 'ordering.payment-failed', 'ordering.order-failed']);
  });

  it('treats a repeated step as a no-op', () => {
    const order = storedOrder();
    order.recordStockReserved(LATER);
    order.recordPaymentCompleted('psp-1', LATER);
    order.recordPaymentFailed('card declined', LATER);
    order.takePendingEvents();

    order.recordStockReserved(LATER);
    order.recordPaymentCompleted('psp-2', LATER);
    order.recordPaymentFailed('declined again', LATER);
    expect(order.takePendingEvents()).toEqual([]);
    expect(order.status).toBe('PENDING');

    order.recordStockReleased(LATER);
    expect(order.takePendingEvents()).toHaveLength(2);
    order.recordStockReleased(LATER);
    expect(order.takePendingEvents()).toEqual([]);
  });

  it('treats a repeated shipment as a no-op before the order is final', () => {
    const order = storedOrder();
    order.recordShipmentCreated('FC-1111-1111-11', LATER);
    order.recordShipmentCreated('FC-2222-2222-22', LATER);
    expect(typesOf(order)).toEqual(['ordering.shipment-created']);
  });

  it('records nothing more once confirmed', () => {
    const order = storedOrder();
    record.stock(order);
    record.payment(order);
    record.shipment(order);
    order.takePendingEvents();
    const version = order.currentVersion;

    order.recordStockUnavailable(['SOIL-MIX'], LATER);
    order.recordPaymentFailed('late failure', LATER);
    order.recordStockReleased(LATER);
    record.stock(order);
    record.payment(order);
    record.shipment(order);

    expect(order.takePendingEvents()).toEqual([]);
    expect(order.currentVersion).toBe(version);
    expect(order.status).toBe('CONFIRMED');
    expect(order.failureReason).toBeUndefined();
  });

  it('records nothing more once failed', () => {
    const order = storedOrder();
    order.recordStockUnavailable(['SOIL-MIX'], LATER);
    order.takePendingEvents();

    order.recordStockUnavailable(['FICUS-LYRATA'], LATER);
    record.stock(order);
    record.payment(order);
    record.shipment(order);
    order.recordPaymentFailed('x', LATER);
    order.recordStockReleased(LATER);

    expect(order.takePendingEvents()).toEqual([]);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toBe('out-of-stock: SOIL-MIX');
  });

  it('counts pending events in currentVersion on top of the stored version', () => {
    const order = placeOrder();
    expect(order.version).toBe(0);
    expect(order.currentVersion).toBe(1);
    record.stock(order);
    expect(order.currentVersion).toBe(2);
  });
});

describe('Order.expire (the saga ran past its deadline)', () => {
  const EXPIRED_AT = '2025-01-01T10:15:00.000Z';

  it.each<[string, (order: Order) => void, string]>([
    ['nothing heard yet', () => undefined, 'stock, payment, shipment'],
    ['stock reserved', (order) => record.stock(order), 'payment, shipment'],
    [
      'stock reserved and paid',
      (order) => {
        record.stock(order);
        record.payment(order);
      },
      'shipment',
    ],
    [
      'paid and shipped, stock not heard of',
      (order) => {
        record.payment(order);
        record.shipment(order);
      },
      'stock',
    ],
    [
      'payment failed, stock not back yet',
      (order) => order.recordPaymentFailed('card declined', LATER),
      'stock release',
    ],
  ])('fails the order naming what it was waiting for (%s)', (_name, steps, missing) => {
    const order = storedOrder();
    steps(order);
    order.takePendingEvents();

    order.expire(EXPIRED_AT);

    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toBe(`${SAGA_DEADLINE_EXCEEDED}: waiting for ${missing}`);
    expect(order.takePendingEvents()).toEqual([
      {
        occurredAt: EXPIRED_AT,
        event: {
          type: 'ordering.order-failed',
          data: {
            orderId: 'order-1',
            customerId: 'customer-1',
            reason: `${SAGA_DEADLINE_EXCEEDED}: waiting for ${missing}`,
          },
        },
      },
    ]);
  });

  it('is a no-op on a confirmed order', () => {
    const order = storedOrder();
    record.stock(order);
    record.payment(order);
    record.shipment(order);
    order.takePendingEvents();
    order.expire(EXPIRED_AT);
    expect(order.takePendingEvents()).toEqual([]);
    expect(order.status).toBe('CONFIRMED');
    expect(order.failureReason).toBeUndefined();
  });

  it('is a no-op on an order that failed for another reason', () => {
    const order = storedOrder();
    order.recordStockUnavailable(['SOIL-MIX'], LATER);
    order.takePendingEvents();
    order.expire(EXPIRED_AT);
    expect(order.takePendingEvents()).toEqual([]);
    expect(order.failureReason).toBe('out-of-stock: SOIL-MIX');
  });

  it('is a no-op the second time (a second sweep, a second replica)', () => {
    const order = storedOrder();
    order.expire(EXPIRED_AT);
    const version = order.currentVersion;
    order.expire('2025-01-01T10:20:00.000Z');
    expect(order.currentVersion).toBe(version);
    expect(order.takePendingEvents()).toHaveLength(1);
  });

  it('ignores facts that arrive after it expired', () => {
    const order = storedOrder();
    order.expire(EXPIRED_AT);
    order.takePendingEvents();
    record.stock(order);
    record.payment(order);
    record.shipment(order);
    order.recordStockReleased(LATER);
    expect(order.takePendingEvents()).toEqual([]);
    expect(order.status).toBe('FAILED');
    expect(order.failureReason).toBe(`${SAGA_DEADLINE_EXCEEDED}: waiting for stock, payment, shipment`);
  });

  it('is never stamped before the last fact it follows', () => {
    const order = storedOrder();
    order.recordStockReserved('2025-01-01T10:20:00.000Z'); // a context whose clock runs ahead
    order.takePendingEvents();
    order.expire(EXPIRED_AT);
    expect(order.takePendingEvents()[0].occurredAt).toBe('2025-01-01T10:20:00.000Z');
  });

  it('survives a rebuild from its history', () => {
    const order = storedOrder();
    record.stock(order);
    order.expire(EXPIRED_AT);
    const history: StoredOrderEvent[] = [
      { event: placeOrder().takePendingEvents()[0].event, occurredAt: AT, version: 1 },
      ...order.takePendingEvents().map((pending, i) => ({ ...pending, version: i + 2 })),
    ];
    const rebuilt = Order.fromHistory(history);
    expect(rebuilt.status).toBe('FAILED');
    expect(rebuilt.failureReason).toBe(`${SAGA_DEADLINE_EXCEEDED}: waiting for payment, shipment`);
    rebuilt.expire('2025-01-01T11:00:00.000Z');
    expect(rebuilt.takePendingEvents()).toEqual([]);
  });
});

describe('Order.fromHistory', () => {
  function historyOf(order: Order): StoredOrderEvent[] {
    return order.takePendingEvents().map((pending, i) => ({ ...pending, version: i + 1 }));
  }

  it.each<[string, (order: Order) => void]>([
    ['just placed', () => undefined],
    ['part way', (order) => record.payment(order)],
    [
      'confirmed',
      (order) => {
        record.shipment(order);
        record.stock(order);
        record.payment(order);
      },
    ],
    ['out of stock', (order) => order.recordStockUnavailable(['LIMITED-POT'], LATER)],
    [
      'payment failed',
      (order) => {
        order.recordPaymentFailed('declined', LATER);
        order.recordStockReleased(LATER);
      },
    ],
  ])('rebuilds the same state and version (%s)', (_name, steps) => {
    const original = placeOrder();
    steps(original);
    const expectedVersion = original.currentVersion;
    const history = historyOf(original);
    expect(history).toHaveLength(expectedVersion);

    const rebuilt = Order.fromHistory(history);
    expect(rebuilt.version).toBe(expectedVersion);
    expect(rebuilt.currentVersion).toBe(expectedVersion);
    expect(rebuilt.status).toBe(original.status);
    expect(rebuilt.failureReason).toBe(original.failureReason);
    expect(rebuilt.total).toEqual(original.total);
    expect(rebuilt.id).toBe(original.id);
    expect(rebuilt.customerId).toBe(original.customerId);
    expect(rebuilt.items).toEqual(original.items);
    expect(rebuilt.createdAt).toBe(original.createdAt);
    expect(rebuilt.updatedAt).toBe(original.updatedAt);
    expect(rebuilt.takePendingEvents()).toEqual([]);
  });

  it('continues the saga where the history left off', () => {
    const original = placeOrder();
    record.stock(original);
    record.payment(original);
    const rebuilt = Order.fromHistory(historyOf(original));
    rebuilt.recordPaymentCompleted('psp-again', LATER);
    expect(rebuilt.takePendingEvents()).toEqual([]);
    record.shipment(rebuilt);
    expect(rebuilt.status).toBe('CONFIRMED');
    expect(rebuilt.currentVersion).toBe(5);
  });

  it('rejects a stream that does not start with order-created', () => {
    const order = storedOrder();
    record.stock(order);
    const history = historyOf(order);
    expect(history[0].event.type).toBe('ordering.stock-reserved');
    expect(() => Order.fromHistory(history)).toThrow(OrderRuleViolation);
  });

  it('rejects an empty stream', () => {
    expect(() => Order.fromHistory([])).toThrow(OrderRuleViolation);
  });
});

describe('the outcome is stamped with the latest fact it depends on', () => {
  it('when payment-failed (earlier) arrives after stock-released (later), order-failed takes the later time', () => {
    const order = Order.place(
      {
        orderId: 'o-1',
        customerId: 'c-1',
        items: [{ sku: 'A-1', quantity: 1, unitPrice: { amountMinor: 100, currency: 'EUR' } }],
        payment: { paymentMethodId: PAYMENT_METHOD },
      },
      '2026-01-01T00:00:00.000Z',
    );
    order.recordStockReserved('2026-01-01T00:00:01.000Z');
    order.recordStockReleased('2026-01-01T00:00:03.000Z');
    order.recordPaymentFailed('card-declined', '2026-01-01T00:00:02.000Z');
    const failed = order.takePendingEvents().find((e) => e.event.type === 'ordering.order-failed');
    expect(failed?.occurredAt).toBe('2026-01-01T00:00:03.000Z');
    expect(order.updatedAt).toBe('2026-01-01T00:00:03.000Z');
  });
});
