import { Query } from '@nestjs/cqrs';
import type { CallContext } from '@contracts/kernel';
import type { PaymentView } from '@contracts/payments';

/** The payments of these orders that the viewer may see, in one read. */
export class GetPaymentsQuery extends Query<PaymentView[]> {
  constructor(
    readonly orderIds: readonly string[],
    /** Who asks: the customer whose orders they pay, or an admin. */
    readonly viewer: CallContext,
  ) {
    super();
  }
}
