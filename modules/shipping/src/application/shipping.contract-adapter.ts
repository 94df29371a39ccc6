import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { mayActFor, notFound, type CallContext } from '@contracts/kernel';
import type { ShipmentView, ShippingApi } from '@contracts/shipping';
import { GetShipmentQuery } from './get-shipment/get-shipment.query';

@Injectable()
export class ShippingContractAdapter implements ShippingApi {
  constructor(private readonly queries: QueryBus) {}

  /** The customer's own (an admin's: any); another customer's answers as a missing one, so ids cannot be probed. */
  async getShipment(ctx: CallContext, request: { orderId: string }): Promise<ShipmentView> {
    const shipment = await this.queries.execute(new GetShipmentQuery(request.orderId));
    if (!shipment || !mayActFor(ctx, shipment.customerId)) {
      throw notFound('shipment-not-found', `no shipment for order ${request.orderId}`);
    }
    const { customerId: _customerId, ...view } = shipment;
    return view;
  }
}
