import { MatchersV3 } from '@pact-foundation/pact';
import { CustomerRegistered, EmailConfirmationRequested, RegistrationAttempted } from '@contracts/identity';
import { StockReleased, StockReservationFailed, StockReserved } from '@contracts/inventory';
import { eventKey, type EventDefinition } from '@contracts/kernel';
import { OrderConfirmed, OrderCreated, OrderCreatedV2, OrderFailed } from '@contracts/ordering';
import { PaymentCompleted, PaymentFailed } from '@contracts/payments';
import { ShipmentCreated } from '@contracts/shipping';

const { eachLike, integer, like, regex, uuid } = MatchersV3;

/**
 * Every integration event a module consumes, with what the consumer asks of it: the message pacts.
 *
 * A ficus consumer parses each payload with the event's whole zod schema before its handler runs
 * (InboxConsumer), and a payload that fails the parse is poison: dead-lettered at once. So a
 * consumer depends on every field the schema requires, not only on the ones its handler reads,
 * and each pact asks for all of them. Matchers ask for types and formats, never for values, so
 * an added field or another example value still passes; a removed field, a changed type or a
 * renamed event (the `type` in the message metadata) fails. `reads` names what the handler itself
 * uses; it goes into the pact as a comment, so a provider can tell which break hurts whom.
 */
export interface ConsumedEvent {
  readonly consumer: string;
  readonly definition: EventDefinition;
  readonly reads: readonly string[];
}

/** The same list as the modules' `runtime.consume(...)` calls; consumed-events.test.ts holds it to them. */
export const CONSUMED_EVENTS: readonly ConsumedEvent[] = [
  { consumer: 'inventory', definition: OrderCreatedV2, reads: ['orderId', 'items[].sku', 'items[].quantity'] },
  { consumer: 'inventory', definition: OrderCreated, reads: ['orderId', 'items[].sku', 'items[].quantity'] },
  { consumer: 'inventory', definition: PaymentFailed, reads: ['orderId'] },
  { consumer: 'inventory', definition: OrderConfirmed, reads: ['orderId'] },
  { consumer: 'inventory', definition: OrderFailed, reads: ['orderId', 'reason'] },
  { consumer: 'ordering', definition: StockReserved, reads: ['orderId'] },
  { consumer: 'ordering', definition: StockReservationFailed, reads: ['orderId', 'unavailableSkus'] },
  { consumer: 'ordering', definition: StockReleased, reads: ['orderId'] },
  { consumer: 'ordering', definition: PaymentCompleted, reads: ['orderId', 'providerReference'] },
  { consumer: 'ordering', definition: PaymentFailed, reads: ['orderId', 'reason'] },
  { consumer: 'ordering', definition: ShipmentCreated, reads: ['orderId', 'trackingNumber'] },
  { consumer: 'payments', definition: OrderCreatedV2, reads: ['orderId', 'customerId', 'total', 'paymentMethodId'] },
  { consumer: 'payments', definition: OrderCreated, reads: ['orderId', 'customerId', 'total', 'paymentToken'] },
  { consumer: 'payments', definition: StockReserved, reads: ['orderId'] },
  { consumer: 'payments', definition: OrderFailed, reads: ['orderId', 'reason'] },
  { consumer: 'shipping', definition: PaymentCompleted, reads: ['orderId'] },
  { consumer: 'shipping', definition: OrderFailed, reads: ['orderId', 'reason'] },
  { consumer: 'notifications', definition: CustomerRegistered, reads: ['customerId', 'email'] },
  {
    consumer: 'notifications',
    definition: EmailConfirmationRequested,
    reads: ['customerId', 'email', 'token', 'expiresAt'],
  },
  { consumer: 'notifications', definition: RegistrationAttempted, reads: ['customerId', 'email'] },
  { consumer: 'notifications', definition: OrderConfirmed, reads: ['customerId', 'orderId', 'total'] },
  { consumer: 'notifications', definition: OrderFailed, reads: ['customerId', 'orderId', 'reason'] },
];

/** The interaction's description: the event's type and version, which is also how providers look up its producer. */
export const describeEvent = (definition: Pick<EventDefinition, 'type' | 'version'>): string => eventKey(definition);

/** What travels beside the payload (the envelope's routing fields; Kafka headers in split mode). */
export const eventMetadata = (definition: Pick<EventDefinition, 'type' | 'version'>): Record<string, string> => ({
  type: definition.type,
  version: String(definition.version),
});

const SKU = '^[A-Z0-9][A-Z0-9-]{1,39}$';
const money = (amountMinor: number) => ({ amountMinor: integer(amountMinor), currency: regex('^[A-Z]{3}$', 'EUR') });
const orderId = () => uuid('f87b8a80-0e97-44bf-85ad-7d6d91dc1fc6');
const customerId = () => like('fa657122-3c1b-4b8e-9d3e-0a5c2b7d9e10');
const sku = () => regex(SKU, 'FICUS-LYRATA');
const stockLine = () => ({ sku: sku(), quantity: integer(2) });

/** The payload each consumer asks for, by event: every field its schema requires, matched by type. */
const BODIES: Record<string, () => unknown> = {
  [eventKey(OrderCreated)]: () => ({
    orderId: orderId(),
    customerId: customerId(),
    items: eachLike({ sku: sku(), quantity: integer(2), unitPrice: money(3_900) }),
    total: money(7_800),
    paymentToken: like('tok_visa'),
  }),
  [eventKey(OrderCreatedV2)]: () => ({
    orderId: orderId(),
    customerId: customerId(),
    items: eachLike({ sku: sku(), quantity: integer(2), unitPrice: money(3_900) }),
    total: money(7_800),
    paymentMethodId: uuid('5f0c2b1e-8d7a-4c3b-9e2f-1a0b9c8d7e6f'),
  }),
  [eventKey(OrderConfirmed)]: () => ({ orderId: orderId(), customerId: customerId(), total: money(7_800) }),
  [eventKey(OrderFailed)]: () => ({ orderId: orderId(), customerId: customerId(), reason: like('payment-failed') }),
  [eventKey(StockReserved)]: () => ({ orderId: orderId(), items: eachLike(stockLine()) }),
  [eventKey(StockReservationFailed)]: () => ({ orderId: orderId(), unavailableSkus: eachLike('FICUS-LYRATA') }),
  [eventKey(StockReleased)]: () => ({
    orderId: orderId(),
    items: eachLike(stockLine()),
    reason: like('payment-failed'),
  }),
  [eventKey(PaymentCompleted)]: () => ({
    orderId: orderId(),
    amount: money(7_800),
    providerReference: like('fake_ch_a4f3b89f2a7b41f881f1'),
  }),
  [eventKey(PaymentFailed)]: () => ({ orderId: orderId(), amount: money(7_800), reason: like('card-declined') }),
  [eventKey(ShipmentCreated)]: () => ({
    orderId: orderId(),
    shipmentId: uuid('0b5e7c1a-6d2f-4e8b-a9c3-1f4d5e6a7b8c'),
    trackingNumber: like('FC-5370-3205-77'),
  }),
  [eventKey(CustomerRegistered)]: () => ({
    customerId: uuid('fa657122-3c1b-4b8e-9d3e-0a5c2b7d9e10'),
    email: regex('^[^@\\s]+@[^@\\s]+$', 'ada@example.com'),
  }),
  [eventKey(EmailConfirmationRequested)]: () => ({
    customerId: uuid('fa657122-3c1b-4b8e-9d3e-0a5c2b7d9e10'),
    email: regex('^[^@\\s]+@[^@\\s]+$', 'ada@example.com'),
    token: regex('^[A-Za-z0-9_-]{32,128}$', 'q3Jb6yK0c2m0n1X2c3V4b5N6m7Q8w9E0r1T2y3U4i5O'),
    expiresAt: regex(
      '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
      '2026-12-04T16:00:00.000Z',
    ),
  }),
  [eventKey(RegistrationAttempted)]: () => ({
    customerId: uuid('fa657122-3c1b-4b8e-9d3e-0a5c2b7d9e10'),
    email: regex('^[^@\\s]+@[^@\\s]+$', 'ada@example.com'),
  }),
};

export function eventBody(definition: EventDefinition): unknown {
  const body = BODIES[eventKey(definition)];
  if (!body)
    throw new Error(`no pact body for ${eventKey(definition)}: add one to test/pact/support/consumed-events.ts`);
  return body();
}

/** Reads a dotted path with `[]` for "every element" (`items[].sku`): the values found, for assertions. */
export function valuesAt(payload: unknown, path: string): unknown[] {
  let values: unknown[] = [payload];
  for (const part of path.split('.')) {
    const many = part.endsWith('[]');
    const name = many ? part.slice(0, -2) : part;
    values = values.map((v) => (v as Record<string, unknown> | undefined)?.[name]);
    if (many) values = values.flatMap((v) => (Array.isArray(v) ? v : [undefined]));
  }
  return values;
}
