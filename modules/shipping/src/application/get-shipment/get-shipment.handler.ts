import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Shipment } from '../../domain/shipment';
import { ShipmentRepository } from '../../persistence/shipment.repository';
import { GetShipmentQuery } from './get-shipment.query';

@QueryHandler(GetShipmentQuery)
export class GetShipmentHandler implements IQueryHandler<GetShipmentQuery, Shipment | undefined> {
  constructor(private readonly shipments: ShipmentRepository) {}

  execute(query: GetShipmentQuery): Promise<Shipment | undefined> {
    return this.shipments.forOrder(query.orderId);
  }
}
