import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { CallContext } from '@contracts/kernel';
import type { PaymentsApi } from '@contracts/payments';
import { customerHeldFor } from './customer-access';
import { GetPaymentQuery } from './get-payment/get-payment.query';
import { HoldPaymentMethodCommand } from './hold-payment-method/hold-payment-method.command';

@Injectable()
export class PaymentsContractAdapter implements PaymentsApi {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  getPayment(ctx: CallContext, request: { orderId: string }) {
    return this.queries.execute(new GetPaymentQuery(request.orderId, ctx));
  }

  holdPaymentMethod(ctx: CallContext, request: { token: string; customerId?: string }) {
    return this.commands.execute(new HoldPaymentMethodCommand(customerHeldFor(ctx, request.customerId), request.token));
  }
}
