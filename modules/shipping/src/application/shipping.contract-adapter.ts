import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { notFound, type CallContext } from '@contracts/kernel';
import type { ShipmentView, ShippingApi } from '@contracts/shipping';
import { GetShipmentQuery } from './get-shipment/get-shipment.query';

@Injectable()
export class ShippingContractAdapter implements ShippingApi {
  constructor(private readonly queries: QueryBus) {}

  async getShipment(_ctx: CallContext, request: { orderId: string }): Promise<ShipmentView> {
    const shipment = await this.queries.execute(new GetShipmentQuery(request.orderId));
    if (!shipment) {
      throw notFound('shipment-not-found', `no shipment for order ${request.orderId}`);
    }
    return shipment;
  }
}
