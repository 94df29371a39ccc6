import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { ReservationLine, StockOnHand } from '../domain/reservation';

export interface ReservationRecord {
  readonly orderId: string;
  readonly status: 'RESERVED' | 'REJECTED' | 'RELEASED' | 'COMMITTED' | 'CANCELLED';
  readonly lines: ReservationLine[];
  readonly unavailableSkus: string[];
}

interface StockRow {
  sku: string;
  available: number;
  reserved: number;
}

/** The most a SKU may hold: what its `integer` column can count. */
export const MAX_ON_HAND = 2_147_483_647;

/**
 * What stands on the shelf, reserved goods included; what is available is `on_hand - reserved`.
 * A row that no one wrote since AddStockOnHand1764000000202 has no `on_hand` until
 * BackfillStockOnHand1764000000203 has run: for it, the previous release's `available` plus
 * `reserved`. Read through to_jsonb so that the query still runs once the contract step has dropped
 * `available` (docs/expand-contract.md); remove the fallback in the release after that step.
 */
const ON_HAND = `COALESCE(stock.on_hand, (to_jsonb(stock) ->> 'available')::integer + stock.reserved)`;

/** Stock and reservations, in plain SQL: row locks and conditional updates are the point here. */
@Injectable()
export class StockRepository {
  constructor(private readonly uow: UnitOfWork) {}

  async levels(skus: readonly string[]): Promise<StockOnHand[]> {
    const rows = (await this.uow.manager.query(
      `SELECT sku, ${ON_HAND} - reserved AS available, reserved FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku`,
      [[...skus]],
    )) as StockRow[];
    return rows.map((r) => ({ sku: r.sku, available: r.available, reserved: r.reserved }));
  }

  /** Locks the rows in sku order, so that concurrent reservations cannot deadlock. */
  async lockLevels(skus: readonly string[]): Promise<StockOnHand[]> {
    const rows = (await this.uow.manager.query(
      `SELECT sku, ${ON_HAND} - reserved AS available, reserved FROM stock WHERE sku = ANY($1::text[]) ORDER ` +
        `BY sku FOR UPDATE`,
      [[...skus]],
    )) as StockRow[];
    return rows.map((r) => ({ sku: r.sku, available: r.available, reserved: r.reserved }));
  }

  async save(levels: readonly StockOnHand[]): Promise<void> {
    for (const level of levels) {
      await this.uow.defer(
        `INSERT INTO stock (sku, on_hand, reserved) VALUES ($1, $2, $3)
         ON CONFLICT (sku) DO UPDATE SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved, updated_at = now()`,
        [level.sku, level.available + level.reserved, level.reserved],
      );
    }
  }

  /** Undefined when the SKU would hold more than MAX_ON_HAND: nothing changes then. */
  async addAvailable(sku: string, quantity: number): Promise<StockOnHand | undefined> {
    const [row] = (await this.uow.manager.query(
      `INSERT INTO stock (sku, on_hand, reserved) VALUES ($1, $2, 0)
       ON CONFLICT (sku) DO UPDATE SET on_hand = ${ON_HAND} + EXCLUDED.on_hand, updated_at = now()
         WHERE (${ON_HAND})::bigint + EXCLUDED.on_hand <= $3
       RETURNING sku, on_hand - reserved AS available, reserved`,
      [sku, quantity, MAX_ON_HAND],
    )) as StockRow[];
    return row;
  }

  /** Claims the order id for a reservation; false when it was already claimed. */
  async claimReservation(orderId: string, lines: readonly ReservationLine[]): Promise<boolean> {
    const inserted = (await this.uow.manager.query(
      `INSERT INTO reservations (order_id, status, lines) VALUES ($1, 'RESERVED', $2)
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [orderId, JSON.stringify(lines)],
    )) as unknown[];
    return inserted.length === 1;
  }

  /**
   * Claims the order id for an order that failed before it reserved anything; false when it was
   * already claimed (reserved, rejected, or cancelled before).
   */
  async claimCancelled(orderId: string): Promise<boolean> {
    const inserted = (await this.uow.manager.query(
      `INSERT INTO reservations (order_id, status, lines, cancelled_at) VALUES ($1, 'CANCELLED', '[]', now())
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [orderId],
    )) as unknown[];
    return inserted.length === 1;
  }

  async findReservation(orderId: string, options: { lock?: boolean } = {}): Promise<ReservationRecord | undefined> {
    const [row] = (await this.uow.manager.query(
      `SELECT order_id, status, lines, unavailable_skus FROM reservations WHERE order_id = $1 ` +
        `${options.lock ? 'FOR UPDATE' : ''}`,
      [orderId],
    )) as Array<{
      order_id: string;
      status: ReservationRecord['status'];
      lines: ReservationLine[];
      unavailable_skus: string[];
    }>;
    return row
      ? { orderId: row.order_id, status: row.status, lines: row.lines, unavailableSkus: row.unavailable_skus }
      : undefined;
  }

  async markRejected(orderId: string, unavailableSkus: readonly string[]): Promise<void> {
    await this.uow.defer(`UPDATE reservations SET status = 'REJECTED', unavailable_skus = $2 WHERE order_id = $1`, [
      orderId,
      JSON.stringify(unavailableSkus),
    ]);
  }

  async markReleased(orderId: string): Promise<void> {
    await this.uow.defer(`UPDATE reservations SET status = 'RELEASED', released_at = now() WHERE order_id = $1`, [
      orderId,
    ]);
  }

  async markCommitted(orderId: string): Promise<void> {
    await this.uow.defer(`UPDATE reservations SET status = 'COMMITTED', committed_at = now() WHERE order_id = $1`, [
      orderId,
    ]);
  }

  async isEmpty(): Promise<boolean> {
    const rows = (await this.uow.manager.query('SELECT 1 FROM stock LIMIT 1')) as unknown[];
    return rows.length === 0;
  }
}
