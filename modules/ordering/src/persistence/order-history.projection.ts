import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { StoredOrderEvent } from '../domain/order-events';

export interface OrderHistoryRow {
  orderId: string;
  status: 'PENDING' | 'CONFIRMED' | 'FAILED';
  total: { amountMinor: number; currency: string };
  itemCount: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * The customers' order history: a read model fed by the order events, in the transaction that
 * appends them, and rebuildable from scratch by replaying every stream.
 */
@Injectable()
export class OrderHistoryProjection {
  constructor(private readonly uow: UnitOfWork) {}

  async project(orderId: string, events: readonly StoredOrderEvent[]): Promise<void> {
    for (const { event, version, occurredAt } of events) {
      switch (event.type) {
        case 'ordering.order-created':
          await this.uow.defer(
            `INSERT INTO order_history (order_id, customer_id, status, total_minor, currency, item_count, created_at,
             updated_at, last_version)
             VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $6, $7)
             ON CONFLICT (order_id) DO NOTHING`,
            [
              orderId,
              event.data.customerId,
              event.data.total.amountMinor,
              event.data.total.currency,
              event.data.items.reduce((n, item) => n + item.quantity, 0),
              occurredAt,
              version,
            ],
          );
          break;
        case 'ordering.order-confirmed':
        case 'ordering.order-failed':
          await this.uow.defer(
            `UPDATE order_history SET status = $2, updated_at = $3, last_version = $4
              WHERE order_id = $1 AND last_version < $4`,
            [orderId, event.type === 'ordering.order-confirmed' ? 'CONFIRMED' : 'FAILED', occurredAt, version],
          );
          break;
        default:
          await this.uow.defer(
            'UPDATE order_history SET updated_at = $2, last_version = $3 WHERE order_id = $1 AND last_version < $3',
            [orderId, occurredAt, version],
          );
      }
    }
  }

  /** Orders still PENDING that were placed before `placedBefore`, oldest first. */
  async pendingPlacedBefore(placedBefore: Date, limit: number): Promise<string[]> {
    const rows = (await this.uow.manager.query(
      `SELECT order_id FROM order_history WHERE status = 'PENDING' AND created_at < $1 ORDER BY created_at LIMIT $2`,
      [placedBefore.toISOString(), limit],
    )) as Array<{ order_id: string }>;
    return rows.map((row) => row.order_id);
  }

  async forCustomer(
    customerId: string,
    page: number,
    pageSize: number,
  ): Promise<{ items: OrderHistoryRow[]; total: number }> {
    const rows = (await this.uow.manager.query(
      `SELECT order_id, status, total_minor, currency, item_count, created_at, updated_at, count(*) OVER () AS total
         FROM order_history WHERE customer_id = $1
        ORDER BY created_at DESC, order_id LIMIT $2 OFFSET $3`,
      [customerId, pageSize, (page - 1) * pageSize],
    )) as Array<{
      order_id: string;
      status: OrderHistoryRow['status'];
      total_minor: number;
      currency: string;
      item_count: number;
      created_at: Date;
      updated_at: Date;
      total: string;
    }>;
    const total = rows.length
      ? Number(rows[0].total)
      : Number(
          (
            (await this.uow.manager.query('SELECT count(*) AS n FROM order_history WHERE customer_id = $1', [
              customerId,
            ])) as Array<{ n: string }>
          )[0].n,
        );
    return {
      total,
      items: rows.map((r) => ({
        orderId: r.order_id,
        status: r.status,
        total: { amountMinor: r.total_minor, currency: r.currency },
        itemCount: r.item_count,
        createdAt: r.created_at.toISOString(),
        updatedAt: r.updated_at.toISOString(),
      })),
    };
  }

  async clear(): Promise<void> {
    await this.uow.manager.query('TRUNCATE order_history');
  }

  /** How many orders are in each status now (statuses with none are absent). */
  async countByStatus(): Promise<Partial<Record<OrderHistoryRow['status'], number>>> {
    const rows = (await this.uow.manager.query(
      'SELECT status, count(*)::int AS n FROM order_history GROUP BY status',
    )) as Array<{
      status: OrderHistoryRow['status'];
      n: number;
    }>;
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }
}
