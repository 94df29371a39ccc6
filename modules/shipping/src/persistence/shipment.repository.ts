import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { Shipment } from '../domain/shipment';

interface ShipmentRow {
  shipment_id: string;
  order_id: string;
  customer_id: string | null;
  tracking_number: string;
  status: Shipment['status'];
  created_at: Date;
  cancelled_at: Date | null;
}

@Injectable()
export class ShipmentRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** False when the order already has a shipment. */
  async insert(shipment: Shipment): Promise<boolean> {
    const inserted = (await this.uow.manager.query(
      `INSERT INTO shipments (shipment_id, order_id, customer_id, tracking_number, status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (order_id) DO NOTHING RETURNING shipment_id`,
      [
        shipment.shipmentId,
        shipment.orderId,
        shipment.customerId ?? null,
        shipment.trackingNumber,
        shipment.status,
        shipment.createdAt,
      ],
    )) as unknown[];
    return inserted.length === 1;
  }

  async forOrder(orderId: string): Promise<Shipment | undefined> {
    const [shipment] = await this.forOrders([orderId]);
    return shipment;
  }

  /** The shipments of these orders, in one statement (in no particular order). */
  async forOrders(orderIds: readonly string[]): Promise<Shipment[]> {
    const rows = (await this.uow.manager.query('SELECT * FROM shipments WHERE order_id = ANY($1)', [
      orderIds,
    ])) as ShipmentRow[];
    return rows.map((row) => ({
      shipmentId: row.shipment_id,
      orderId: row.order_id,
      customerId: row.customer_id ?? undefined,
      trackingNumber: row.tracking_number,
      status: row.status,
      createdAt: row.created_at.toISOString(),
      cancelledAt: row.cancelled_at?.toISOString(),
    }));
  }

  /**
   * Makes the shipping decisions about one order take turns (until the transaction ends): a
   * shipment being created and the order's cancellation must each see the other.
   */
  async lockOrder(orderId: string): Promise<void> {
    await this.uow.manager.query("SELECT pg_advisory_xact_lock(hashtext('shipping.order:' || $1))", [orderId]);
  }

  /** Remembers that the order failed (once): it gets no shipment from now on. */
  async recordOrderCancelled(orderId: string, reason: string): Promise<void> {
    await this.uow.defer(
      'INSERT INTO cancelled_orders (order_id, reason) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING',
      [orderId, reason],
    );
  }

  async isOrderCancelled(orderId: string): Promise<boolean> {
    const rows = (await this.uow.manager.query('SELECT 1 FROM cancelled_orders WHERE order_id = $1', [
      orderId,
    ])) as unknown[];
    return rows.length > 0;
  }

  /** Cancels the order's shipment if it has a live one; true when it did. */
  async cancelForOrder(orderId: string): Promise<boolean> {
    const cancelled = (await this.uow.manager.query(
      `UPDATE shipments SET status = 'CANCELLED', cancelled_at = now() WHERE order_id = $1 AND status = ` +
        `'CREATED' RETURNING shipment_id`,
      [orderId],
    )) as unknown[];
    return cancelled.length === 1;
  }
}
