import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { mayActFor } from '@contracts/kernel';
import type { PaymentView } from '@contracts/payments';
import { PaymentRepository } from '../../persistence/payment.repository';
import { GetPaymentsQuery } from './get-payments.query';

@QueryHandler(GetPaymentsQuery)
export class GetPaymentsHandler implements IQueryHandler<GetPaymentsQuery, PaymentView[]> {
  constructor(private readonly payments: PaymentRepository) {}

  /**
   * Another customer's payment is left out, as a missing one is, so order ids cannot be probed;
   * so is a payment not yet priced (payments heard of its stock before its order).
   */
  async execute(query: GetPaymentsQuery): Promise<PaymentView[]> {
    const payments = await this.payments.findAll(query.orderIds);
    return payments.flatMap((payment) =>
      payment.amount && mayActFor(query.viewer, payment.customerId)
        ? [
            {
              orderId: payment.orderId,
              status: payment.status,
              amount: payment.amount,
              providerReference: payment.providerReference,
              failureReason: payment.failureReason,
              refundReference: payment.refundReference,
              refundedAt: payment.refundedAt,
              updatedAt: payment.updatedAt,
            },
          ]
        : [],
    );
  }
}
