import { Injectable } from '@nestjs/common';
import type { StockReservationFailed } from '@contracts/inventory';
import type { PayloadOf } from '@contracts/kernel';
import type { Order } from '../../domain/order';
import { SagaStepListener } from './saga-step-listener';

@Injectable()
export class RecordSagaStepOnStockReservationFailed extends SagaStepListener<typeof StockReservationFailed> {
  protected record(order: Order, payload: PayloadOf<typeof StockReservationFailed>, at: string): void {
    order.recordStockUnavailable(payload.unavailableSkus, at);
  }
}
