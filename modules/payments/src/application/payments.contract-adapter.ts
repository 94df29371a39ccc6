import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { CallContext } from '@contracts/kernel';
import type { PaymentsApi } from '@contracts/payments';
import { GetPaymentQuery } from './get-payment/get-payment.query';

@Injectable()
export class PaymentsContractAdapter implements PaymentsApi {
  constructor(private readonly queries: QueryBus) {}

  getPayment(ctx: CallContext, request: { orderId: string }) {
    return this.queries.execute(new GetPaymentQuery(request.orderId, ctx));
  }
}
