import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { mayActFor, notFound } from '@contracts/kernel';
import type { PaymentView } from '@contracts/payments';
import { PaymentRepository } from '../../persistence/payment.repository';
import { GetPaymentQuery } from './get-payment.query';

@QueryHandler(GetPaymentQuery)
export class GetPaymentHandler implements IQueryHandler<GetPaymentQuery, PaymentView> {
  constructor(private readonly payments: PaymentRepository) {}

  async execute(query: GetPaymentQuery): Promise<PaymentView> {
    const payment = await this.payments.find(query.orderId);
    // Another customer's payment answers as a missing one, so order ids cannot be probed.
    if (!payment?.amount || !mayActFor(query.viewer, payment.customerId)) {
      throw notFound('payment-not-found', `no payment for order ${query.orderId}`);
    }
    return {
      orderId: payment.orderId,
      status: payment.status,
      amount: payment.amount,
      providerReference: payment.providerReference,
      failureReason: payment.failureReason,
      refundReference: payment.refundReference,
      refundedAt: payment.refundedAt,
      updatedAt: payment.updatedAt,
    };
  }
}
