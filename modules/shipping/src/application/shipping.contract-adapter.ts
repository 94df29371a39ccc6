import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { mayActFor, notFound, type CallContext } from '@contracts/kernel';
import type { ShipmentView, ShippingApi } from '@contracts/shipping';
import { GetShipmentsQuery } from './get-shipments/get-shipments.query';

@Injectable()
export class ShippingContractAdapter implements ShippingApi {
  constructor(private readonly queries: QueryBus) {}

  async getShipment(ctx: CallContext, request: { orderId: string }): Promise<ShipmentView> {
    const [shipment] = await this.visible(ctx, [request.orderId]);
    if (!shipment) throw notFound('shipment-not-found', `no shipment for order ${request.orderId}`);
    return shipment;
  }

  async getShipments(ctx: CallContext, request: { orderIds: string[] }): Promise<{ shipments: ShipmentView[] }> {
    return { shipments: await this.visible(ctx, [...new Set(request.orderIds)]) };
  }

  /** The customer's own (an admin's: any); another customer's is left out as a missing one, so ids cannot be probed. */
  private async visible(ctx: CallContext, orderIds: readonly string[]): Promise<ShipmentView[]> {
    const shipments = await this.queries.execute(new GetShipmentsQuery(orderIds));
    return shipments.flatMap(({ customerId, ...view }) => (mayActFor(ctx, customerId) ? [view] : []));
  }
}
