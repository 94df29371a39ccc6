import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { eventually } from '../../support/eventually';
import type { FaultySplit, ServiceName } from './faulty-split';

/** One row of the fault suite's table. */
export interface ScenarioReport {
  readonly scenario: string;
  /** POST /orders sent. */
  readonly attempted: number;
  /** Answers other than 202, by status: what the client was told to retry. */
  readonly refused: Readonly<Record<string, number>>;
  /** Orders that exist (some may exist although their POST timed out). */
  readonly orders: number;
  readonly confirmed: number;
  readonly failed: number;
  /** Still PENDING when the audit gave up. */
  readonly stuck: number;
  /** An effect an event should have caused and did not (or an event never published). */
  readonly lost: number;
  /** An effect that happened twice (a second charge, stock taken twice, a dead letter). */
  readonly duplicated: number;
  readonly problems: readonly string[];
}

export interface StockLevel {
  readonly available: number;
  readonly reserved: number;
}

const MESSAGING_CONTEXTS: readonly ServiceName[] = BOUNDED_CONTEXTS;

export async function stockLevel(split: FaultySplit, sku: string): Promise<StockLevel> {
  const [row] = await split.query<StockLevel>(
    'inventory',
    'SELECT available, reserved FROM inventory.stock WHERE sku = $1',
    [sku],
  );
  return { available: Number(row.available), reserved: Number(row.reserved) };
}

export async function deadLetterCount(split: FaultySplit): Promise<number> {
  let total = 0;
  for (const context of MESSAGING_CONTEXTS) {
    const [row] = await split.query<{ n: string }>(context, `SELECT count(*) AS n FROM ${context}.dead_letters`);
    total += Number(row.n);
  }
  return total;
}

interface Snapshot {
  readonly orders: ReadonlyArray<{ id: string; outcome: 'CONFIRMED' | 'FAILED' | 'PENDING'; quantity: number }>;
  readonly lost: string[];
  readonly duplicated: string[];
}

/**
 * Reads every context's books for the orders of one customer and checks that they tell one story:
 * a CONFIRMED order has its stock committed, one capture not refunded, a live shipment, a
 * confirmation email and a CONFIRMED read model; a FAILED one holds no stock, keeps no money,
 * ships nothing and has its failure email. Stock moved exactly by what confirmed orders took.
 */
async function snapshot(
  split: FaultySplit,
  customerId: string,
  sku: string,
  stockBefore: StockLevel,
  deadLettersBefore: number,
): Promise<Snapshot> {
  const ids = (
    await split.query<{ id: string }>(
      'ordering',
      `SELECT aggregate_id AS id FROM ordering.order_events WHERE type = 'ordering.order-created' AND payload->>'customerId' = $1`,
      [customerId],
    )
  ).map((row) => row.id);
  const lost: string[] = [];
  const duplicated: string[] = [];
  const byId = <T extends { order_id: string }>(rows: T[]) => {
    const map = new Map<string, T[]>();
    for (const row of rows) map.set(row.order_id, [...(map.get(row.order_id) ?? []), row]);
    return map;
  };
  const events = byId(
    await split.query<{
      order_id: string;
      type: string;
      payload: { items?: Array<{ sku: string; quantity: number }> };
    }>(
      'ordering',
      `SELECT aggregate_id AS order_id, type, payload FROM ordering.order_events
        WHERE aggregate_id = ANY($1) AND type IN ('ordering.order-created', 'ordering.order-confirmed', 'ordering.order-failed')`,
      [ids],
    ),
  );
  const history = byId(
    await split.query<{ order_id: string; status: string }>(
      'ordering',
      'SELECT order_id::text, status FROM ordering.order_history WHERE order_id = ANY($1::uuid[])',
      [ids],
    ),
  );
  const reservations = byId(
    await split.query<{ order_id: string; status: string }>(
      'inventory',
      'SELECT order_id::text, status FROM inventory.reservations WHERE order_id = ANY($1::uuid[])',
      [ids],
    ),
  );
  const payments = byId(
    await split.query<{ order_id: string; status: string; refunded: boolean }>(
      'payments',
      'SELECT order_id::text, status, refunded_at IS NOT NULL AS refunded FROM payments.payments WHERE order_id = ANY($1::uuid[])',
      [ids],
    ),
  );
  const charges = byId(
    await split.query<{ order_id: string; outcome: string }>(
      'payments',
      `SELECT substring(idempotency_key from 7) AS order_id, outcome FROM payments.fake_provider_charges WHERE idempotency_key = ANY($1)`,
      [ids.map((id) => `order:${id}`)],
    ),
  );
  const refunds = byId(
    await split.query<{ order_id: string }>(
      'payments',
      `SELECT substring(idempotency_key from 14) AS order_id FROM payments.fake_provider_refunds WHERE idempotency_key = ANY($1)`,
      [ids.map((id) => `refund:order:${id}`)],
    ),
  );
  // What each order's saga published, counted: a second payment-completed or shipment-created
  // would be a duplicated effect that unique keys elsewhere might hide.
  const published = new Map<string, number>();
  for (const [context, table] of [
    ['payments', 'payments.outbox'],
    ['shipping', 'shipping.outbox'],
    ['inventory', 'inventory.outbox'],
  ] as const) {
    for (const row of await split.query<{ order_id: string; type: string; n: string }>(
      context,
      `SELECT payload->>'orderId' AS order_id, type, count(*) AS n FROM ${table} WHERE payload->>'orderId' = ANY($1) GROUP BY 1, 2`,
      [ids],
    )) {
      published.set(`${row.order_id} ${row.type}`, Number(row.n));
    }
  }
  const shipments = byId(
    await split.query<{ order_id: string; status: string }>(
      'shipping',
      'SELECT order_id::text, status FROM shipping.shipments WHERE order_id = ANY($1::uuid[])',
      [ids],
    ),
  );
  const notifications = byId(
    await split.query<{ order_id: string; kind: string }>(
      'notifications',
      'SELECT order_id::text, kind FROM notifications.notifications WHERE order_id = ANY($1::uuid[])',
      [ids],
    ),
  );

  const orders = ids.map((id) => {
    const types = new Set((events.get(id) ?? []).map((e) => e.type));
    const created = (events.get(id) ?? []).find((e) => e.type === 'ordering.order-created');
    const quantity = (created?.payload.items ?? [])
      .filter((item) => item.sku === sku)
      .reduce((sum, item) => sum + item.quantity, 0);
    const outcome = types.has('ordering.order-confirmed')
      ? ('CONFIRMED' as const)
      : types.has('ordering.order-failed')
        ? ('FAILED' as const)
        : ('PENDING' as const);
    const miss = (what: string) => lost.push(`${id}: ${what}`);
    const reservation = reservations.get(id)?.[0]?.status;
    const payment = payments.get(id)?.[0];
    const captures = (charges.get(id) ?? []).filter((c) => c.outcome !== 'declined');
    const shipment = shipments.get(id)?.[0]?.status;
    const kinds = (notifications.get(id) ?? []).map((n) => n.kind);
    if (captures.length > 1) duplicated.push(`${id}: charged ${captures.length} times`);
    for (const type of [
      'payments.payment-completed',
      'payments.payment-refunded',
      'shipping.shipment-created',
      'inventory.stock-reserved',
    ]) {
      const n = published.get(`${id} ${type}`) ?? 0;
      if (n > 1) duplicated.push(`${id}: ${type} published ${n} times`);
    }
    // The provider's books, not ours: an approved charge of a failed order must have its refund.
    const keptMoney = captures.length > 0 && (refunds.get(id) ?? []).length === 0;
    if ((shipments.get(id) ?? []).length > 1) duplicated.push(`${id}: ${shipments.get(id)!.length} shipments`);
    if (outcome === 'CONFIRMED') {
      if (reservation !== 'COMMITTED') miss(`confirmed, stock ${reservation ?? 'never reserved'}`);
      if (payment?.status !== 'COMPLETED' || payment.refunded)
        miss(`confirmed, payment ${payment?.status ?? 'none'}${payment?.refunded ? ' refunded' : ''}`);
      if (!shipment || shipment === 'CANCELLED') miss(`confirmed, shipment ${shipment ?? 'none'}`);
      if (!kinds.includes('order-confirmed')) miss('confirmed, no confirmation email');
      if (history.get(id)?.[0]?.status !== 'CONFIRMED')
        miss(`confirmed, read model says ${history.get(id)?.[0]?.status ?? 'nothing'}`);
    } else if (outcome === 'FAILED') {
      if (reservation === 'RESERVED' || reservation === 'COMMITTED') miss(`failed, stock still ${reservation}`);
      if (payment?.status === 'COMPLETED' && !payment.refunded) miss('failed, payment kept');
      if (keptMoney) miss('failed, the provider charged and never refunded');
      if (shipment && shipment !== 'CANCELLED') miss(`failed, shipment ${shipment}`);
      if (!kinds.includes('order-failed')) miss('failed, no failure email');
      if (history.get(id)?.[0]?.status !== 'FAILED')
        miss(`failed, read model says ${history.get(id)?.[0]?.status ?? 'nothing'}`);
    }
    return { id, outcome, quantity };
  });

  const ended = orders.every((o) => o.outcome !== 'PENDING');
  if (ended) {
    const stock = await stockLevel(split, sku);
    const taken = orders.filter((o) => o.outcome === 'CONFIRMED').reduce((sum, o) => sum + o.quantity, 0);
    const drift = stockBefore.available - stock.available - taken;
    if (drift > 0) duplicated.push(`stock: ${drift} more taken than confirmed orders hold`);
    if (drift < 0) lost.push(`stock: ${-drift} fewer taken than confirmed orders hold`);
    if (stock.reserved !== stockBefore.reserved)
      lost.push(`stock: ${stock.reserved - stockBefore.reserved} still reserved`);
  }
  for (const context of MESSAGING_CONTEXTS) {
    const outbox = context === 'ordering' ? 'ordering.order_events' : `${context}.outbox`;
    const [row] = await split.query<{ n: string }>(
      context,
      `SELECT count(*) AS n FROM ${outbox} WHERE published_at IS NULL`,
    );
    if (Number(row.n) > 0) lost.push(`${context}: ${row.n} events not yet published`);
  }
  const deadLetters = (await deadLetterCount(split)) - deadLettersBefore;
  if (deadLetters > 0) duplicated.push(`${deadLetters} dead letters`);
  return { orders, lost, duplicated };
}

/**
 * Waits (up to `timeoutMs`) until the books of a customer's orders agree, then reports what
 * they say; a scenario asserts on the report, and the suite prints every report as its table.
 */
export async function auditOrders(
  split: FaultySplit,
  input: {
    scenario: string;
    customerId: string;
    sku: string;
    stockBefore: StockLevel;
    deadLettersBefore: number;
    answers: readonly number[];
    /** The order ids of the 202 answers: each must exist. */
    acceptedIds?: readonly string[];
    timeoutMs?: number;
  },
): Promise<ScenarioReport> {
  let last: Snapshot | undefined;
  try {
    await eventually(
      async () =>
        (last = await snapshot(split, input.customerId, input.sku, input.stockBefore, input.deadLettersBefore)),
      {
        until: (s) => s.orders.every((o) => o.outcome !== 'PENDING') && s.lost.length === 0,
        timeoutMs: input.timeoutMs ?? 90_000,
        intervalMs: 500,
        what: `${input.scenario}: every order ends and the books agree`,
      },
    );
  } catch {
    // The report below says what did not settle.
  }
  const final =
    last ?? (await snapshot(split, input.customerId, input.sku, input.stockBefore, input.deadLettersBefore));
  const known = new Set(final.orders.map((o) => o.id));
  const vanished = (input.acceptedIds ?? []).filter((id) => !known.has(id));
  if (vanished.length > 0) final.lost.push(...vanished.map((id) => `${id}: answered 202, but no such order`));
  const refused: Record<string, number> = {};
  for (const status of input.answers.filter((s) => s !== 202)) refused[status] = (refused[status] ?? 0) + 1;
  return {
    scenario: input.scenario,
    attempted: input.answers.length,
    refused,
    orders: final.orders.length,
    confirmed: final.orders.filter((o) => o.outcome === 'CONFIRMED').length,
    failed: final.orders.filter((o) => o.outcome === 'FAILED').length,
    stuck: final.orders.filter((o) => o.outcome === 'PENDING').length,
    lost: final.lost.length,
    duplicated: final.duplicated.length,
    problems: [...final.lost, ...final.duplicated].slice(0, 20),
  };
}

export function reportTable(reports: readonly ScenarioReport[]): string {
  const header = ['scenario', 'attempted', 'refused', 'orders', 'confirmed', 'failed', 'stuck', 'lost', 'duplicated'];
  const rows = reports.map((r) => [
    r.scenario,
    String(r.attempted),
    Object.entries(r.refused)
      .map(([status, n]) => `${n}×${status}`)
      .join(' ') || '0',
    String(r.orders),
    String(r.confirmed),
    String(r.failed),
    String(r.stuck),
    String(r.lost),
    String(r.duplicated),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
