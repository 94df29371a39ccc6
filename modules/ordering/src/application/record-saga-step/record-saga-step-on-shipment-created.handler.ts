import { Injectable } from '@nestjs/common';
import type { ShipmentCreated } from '@contracts/shipping';
import type { PayloadOf } from '@contracts/kernel';
import type { Order } from '../../domain/order';
import { SagaStepListener } from './saga-step-listener';

@Injectable()
export class RecordSagaStepOnShipmentCreated extends SagaStepListener<typeof ShipmentCreated> {
  protected record(order: Order, payload: PayloadOf<typeof ShipmentCreated>, at: string): void {
    order.recordShipmentCreated(payload.trackingNumber, at);
  }
}
