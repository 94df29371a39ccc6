import { Query } from '@nestjs/cqrs';
import type { PaymentView } from '@contracts/payments';

export class GetPaymentQuery extends Query<PaymentView> {
  constructor(readonly orderId: string) {
    super();
  }
}
