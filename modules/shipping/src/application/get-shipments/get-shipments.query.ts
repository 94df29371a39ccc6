import { Query } from '@nestjs/cqrs';
import type { Shipment } from '../../domain/shipment';

/** The shipments of these orders, in one read. */
export class GetShipmentsQuery extends Query<Shipment[]> {
  constructor(readonly orderIds: readonly string[]) {
    super();
  }
}
