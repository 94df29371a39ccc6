import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { Shipment } from '../domain/shipment';

@Injectable()
export class ShipmentRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** False when the order already has a shipment. */
  async insert(shipment: Shipment): Promise<boolean> {
    const inserted = (await this.uow.manager.query(
      `INSERT INTO shipments (shipment_id, order_id, tracking_number, status, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (order_id) DO NOTHING RETURNING shipment_id`,
      [shipment.shipmentId, shipment.orderId, shipment.trackingNumber, shipment.status, shipment.createdAt],
    )) as unknown[];
    return inserted.length === 1;
  }

  async forOrder(orderId: string): Promise<Shipment | undefined> {
    const [row] = (await this.uow.manager.query('SELECT * FROM shipments WHERE order_id = $1', [orderId])) as Array<{
      shipment_id: string;
      order_id: string;
      tracking_number: string;
      status: 'CREATED';
      created_at: Date;
    }>;
    return row
      ? {
          shipmentId: row.shipment_id,
          orderId: row.order_id,
          trackingNumber: row.tracking_number,
          status: row.status,
          createdAt: row.created_at.toISOString(),
        }
      : undefined;
  }
}
