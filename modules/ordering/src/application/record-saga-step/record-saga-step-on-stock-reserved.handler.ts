import { Injectable } from '@nestjs/common';
import type { StockReserved } from '@contracts/inventory';
import type { PayloadOf } from '@contracts/kernel';
import type { Order } from '../../domain/order';
import { SagaStepListener } from './saga-step-listener';

@Injectable()
export class RecordSagaStepOnStockReserved extends SagaStepListener<typeof StockReserved> {
  protected record(order: Order, _payload: PayloadOf<typeof StockReserved>, at: string): void {
    order.recordStockReserved(at);
  }
}
