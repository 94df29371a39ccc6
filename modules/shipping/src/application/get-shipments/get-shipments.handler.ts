import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Shipment } from '../../domain/shipment';
import { ShipmentRepository } from '../../persistence/shipment.repository';
import { GetShipmentsQuery } from './get-shipments.query';

@QueryHandler(GetShipmentsQuery)
export class GetShipmentsHandler implements IQueryHandler<GetShipmentsQuery, Shipment[]> {
  constructor(private readonly shipments: ShipmentRepository) {}

  execute(query: GetShipmentsQuery): Promise<Shipment[]> {
    return this.shipments.forOrders(query.orderIds);
  }
}
