import { Injectable } from '@nestjs/common';
import type { StockReleased } from '@contracts/inventory';
import type { PayloadOf } from '@contracts/kernel';
import type { Order } from '../../domain/order';
import { SagaStepListener } from './saga-step-listener';

@Injectable()
export class RecordSagaStepOnStockReleased extends SagaStepListener<typeof StockReleased> {
  protected record(order: Order, _payload: PayloadOf<typeof StockReleased>, at: string): void {
    order.recordStockReleased(at);
  }
}
