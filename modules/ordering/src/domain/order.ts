import { addMoney, multiplyMoney, type Money } from '@contracts/kernel';
import type { OrderEvent, OrderLineData, OrderPayment, StoredOrderEvent } from './order-events';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'FAILED';

/** How the failure reason of an order whose saga ran out of time begins. */
export const SAGA_DEADLINE_EXCEEDED = 'saga-deadline-exceeded';

export class OrderRuleViolation extends Error {
  override readonly name = 'OrderRuleViolation';
}

interface PendingEvent {
  readonly event: OrderEvent;
  readonly occurredAt: string;
}

/**
 * The order aggregate, event-sourced: its state is whatever its events say, rebuilt by replaying
 * them; every change is a new event appended at the next version.
 *
 * The saga is choreographed, and other contexts' events can arrive in any order (inventory's and
 * payments' relays run independently), so the order keeps what it has learned as facts and
 * decides from the set: CONFIRMED once stock, payment and shipment are all in; FAILED at once when
 * stock was unavailable, once a failed payment's stock has been given back, or when the saga has
 * run past its deadline (`expire`).
 */
export class Order {
  private state = {
    id: '',
    customerId: '',
    items: [] as OrderLineData[],
    total: { amountMinor: 0, currency: 'EUR' } as Money,
    status: 'PENDING' as OrderStatus,
    failureReason: undefined as string | undefined,
    stockReserved: false,
    paymentCompleted: false,
    paymentFailed: false,
    stockReleased: false,
    shipmentCreated: false,
    createdAt: '',
    updatedAt: '',
  };
  private persistedVersion = 0;
  private readonly pending: PendingEvent[] = [];

  private constructor() {}

  static place(
    input: { orderId: string; customerId: string; items: OrderLineData[]; payment: OrderPayment },
    at: string,
  ): Order {
    if (input.items.length === 0) {
      throw new OrderRuleViolation('an order has at least one line');
    }
    const currencies = new Set(input.items.map((item) => item.unitPrice.currency));
    if (currencies.size !== 1) {
      throw new OrderRuleViolation('all lines of an order are priced in one currency');
    }
    const total = input.items
      .map((item) => multiplyMoney(item.unitPrice, item.quantity))
      .reduce((sum, line) => addMoney(sum, line));
    const { payment, ...created } = input;
    const order = new Order();
    order.record(
      'paymentMethodId' in payment
        ? {
            type: 'ordering.order-created',
            version: 2,
            data: { ...created, total, paymentMethodId: payment.paymentMethodId },
          }
        : {
            type: 'ordering.order-created',
            version: 1,
            data: { ...created, total, paymentToken: payment.paymentToken },
          },
      at,
    );
    return order;
  }

  static fromHistory(history: readonly StoredOrderEvent[]): Order {
    if (history.length === 0 || history[0].event.type !== 'ordering.order-created') {
      throw new OrderRuleViolation('an order stream starts with order-created');
    }
    const order = new Order();
    for (const stored of history) {
      order.apply(stored.event, stored.occurredAt);
      order.persistedVersion = stored.version;
    }
    return order;
  }

  get id(): string {
    return this.state.id;
  }
  get customerId(): string {
    return this.state.customerId;
  }
  get status(): OrderStatus {
    return this.state.status;
  }
  get failureReason(): string | undefined {
    return this.state.failureReason;
  }
  get total(): Money {
    return this.state.total;
  }
  get items(): readonly OrderLineData[] {
    return this.state.items;
  }
  get createdAt(): string {
    return this.state.createdAt;
  }
  get updatedAt(): string {
    return this.state.updatedAt;
  }
  /** Version of the last stored event; new events go after it. */
  get version(): number {
    return this.persistedVersion;
  }
  get currentVersion(): number {
    return this.persistedVersion + this.pending.length;
  }

  /** Events recorded since loading, in order, and forgets them (they are being stored). */
  takePendingEvents(): PendingEvent[] {
    return this.pending.splice(0, this.pending.length);
  }

  recordStockReserved(at: string): void {
    if (this.state.stockReserved || this.isFinal) return;
    this.record({ type: 'ordering.stock-reserved', data: { orderId: this.id } }, at);
    this.decide(at);
  }

  recordStockUnavailable(unavailableSkus: string[], at: string): void {
    if (this.isFinal) return;
    this.record({ type: 'ordering.stock-unavailable', data: { orderId: this.id, unavailableSkus } }, at);
    this.fail(`out-of-stock: ${unavailableSkus.join(', ')}`, at);
  }

  recordPaymentCompleted(providerReference: string, at: string): void {
    if (this.state.paymentCompleted || this.isFinal) return;
    this.record({ type: 'ordering.payment-completed', data: { orderId: this.id, providerReference } }, at);
    this.decide(at);
  }

  recordPaymentFailed(reason: string, at: string): void {
    if (this.state.paymentFailed || this.isFinal) return;
    this.record({ type: 'ordering.payment-failed', data: { orderId: this.id, reason } }, at);
    this.decide(at);
  }

  recordStockReleased(at: string): void {
    if (this.state.stockReleased || this.isFinal) return;
    this.record({ type: 'ordering.stock-released', data: { orderId: this.id } }, at);
    this.decide(at);
  }

  recordShipmentCreated(trackingNumber: string, at: string): void {
    if (this.state.shipmentCreated || this.isFinal) return;
    this.record({ type: 'ordering.shipment-created', data: { orderId: this.id, trackingNumber } }, at);
    this.decide(at);
  }

  /**
   * The saga ran out of time: the order fails, and its reason names the facts it was still
   * waiting for (`saga-deadline-exceeded: waiting for payment, shipment`). The other contexts
   * compensate on order-failed. A final order stays as it is, so a second sweep (or a second
   * replica sweeping the same order) records nothing.
   */
  expire(at: string): void {
    if (this.isFinal) return;
    this.fail(`${SAGA_DEADLINE_EXCEEDED}: waiting for ${this.missingFacts().join(', ')}`, at);
  }

  /** What the saga still needs to reach an outcome, in saga order. */
  private missingFacts(): string[] {
    const s = this.state;
    if (s.paymentFailed) {
      // A failed payment ends the order once its stock is back; nothing else matters any more.
      return ['stock release'];
    }
    const missing: Array<[boolean, string]> = [
      [s.stockReserved, 'stock'],
      [s.paymentCompleted, 'payment'],
      [s.shipmentCreated, 'shipment'],
    ];
    return missing.filter(([known]) => !known).map(([, fact]) => fact);
  }

  private get isFinal(): boolean {
    return this.state.status !== 'PENDING';
  }

  /**
   * The order's outcome happens when its last fact does: facts may arrive out of order, so the
   * outcome is stamped with the latest of them, never earlier than a fact it depends on.
   */
  private decide(at: string): void {
    const s = this.state;
    at = this.latestFactAt(at);
    if (s.paymentFailed && s.stockReleased) {
      this.fail('payment-failed', at);
    } else if (s.stockReserved && s.paymentCompleted && s.shipmentCreated) {
      this.record(
        { type: 'ordering.order-confirmed', data: { orderId: s.id, customerId: s.customerId, total: s.total } },
        at,
      );
    }
  }

  private latestFactAt(at: string): string {
    return this.state.updatedAt > at ? this.state.updatedAt : at;
  }

  private fail(reason: string, at: string): void {
    at = this.latestFactAt(at);
    this.record({ type: 'ordering.order-failed', data: { orderId: this.id, customerId: this.customerId, reason } }, at);
  }

  private record(event: OrderEvent, at: string): void {
    this.apply(event, at);
    this.pending.push({ event, occurredAt: at });
  }

  private apply(event: OrderEvent, at: string): void {
    const s = this.state;
    if (at > s.updatedAt) s.updatedAt = at; // ISO-8601 UTC strings compare as times
    switch (event.type) {
      case 'ordering.order-created':
        s.id = event.data.orderId;
        s.customerId = event.data.customerId;
        s.items = event.data.items;
        s.total = event.data.total;
        s.createdAt = at;
        break;
      case 'ordering.stock-reserved':
        s.stockReserved = true;
        break;
      case 'ordering.stock-unavailable':
        break;
      case 'ordering.payment-completed':
        s.paymentCompleted = true;
        break;
      case 'ordering.payment-failed':
        s.paymentFailed = true;
        break;
      case 'ordering.stock-released':
        s.stockReleased = true;
        break;
      case 'ordering.shipment-created':
        s.shipmentCreated = true;
        break;
      case 'ordering.order-confirmed':
        s.status = 'CONFIRMED';
        break;
      case 'ordering.order-failed':
        s.status = 'FAILED';
        s.failureReason = event.data.reason;
        break;
    }
  }
}
