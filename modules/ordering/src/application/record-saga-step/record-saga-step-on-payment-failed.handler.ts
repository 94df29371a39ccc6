import { Injectable } from '@nestjs/common';
import type { PaymentFailed } from '@contracts/payments';
import type { PayloadOf } from '@contracts/kernel';
import type { Order } from '../../domain/order';
import { SagaStepListener } from './saga-step-listener';

@Injectable()
export class RecordSagaStepOnPaymentFailed extends SagaStepListener<typeof PaymentFailed> {
  protected record(order: Order, payload: PayloadOf<typeof PaymentFailed>, at: string): void {
    order.recordPaymentFailed(payload.reason, at);
  }
}
