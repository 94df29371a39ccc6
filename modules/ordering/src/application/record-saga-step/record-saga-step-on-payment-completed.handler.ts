import { Injectable } from '@nestjs/common';
import type { PaymentCompleted } from '@contracts/payments';
import type { PayloadOf } from '@contracts/kernel';
import type { Order } from '../../domain/order';
import { SagaStepListener } from './saga-step-listener';

@Injectable()
export class RecordSagaStepOnPaymentCompleted extends SagaStepListener<typeof PaymentCompleted> {
  protected record(order: Order, payload: PayloadOf<typeof PaymentCompleted>, at: string): void {
    order.recordPaymentCompleted(payload.providerReference, at);
  }
}
