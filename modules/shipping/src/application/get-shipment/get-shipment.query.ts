import { Query } from '@nestjs/cqrs';
import type { Shipment } from '../../domain/shipment';

export class GetShipmentQuery extends Query<Shipment | undefined> {
  constructor(readonly orderId: string) {
    super();
  }
}
