import { Query } from '@nestjs/cqrs';
import type { CallContext } from '@contracts/kernel';
import type { PaymentView } from '@contracts/payments';

export class GetPaymentQuery extends Query<PaymentView> {
  constructor(
    readonly orderId: string,
    /** Who asks: the customer whose order it pays, or an admin. */
    readonly viewer: CallContext,
  ) {
    super();
  }
}
