import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { notFound, type CallContext } from '@contracts/kernel';
import type { PaymentsApi, PaymentView } from '@contracts/payments';
import { customerHeldFor } from './customer-access';
import { GetPaymentsQuery } from './get-payments/get-payments.query';
import { HoldPaymentMethodCommand } from './hold-payment-method/hold-payment-method.command';

@Injectable()
export class PaymentsContractAdapter implements PaymentsApi {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  async getPayment(ctx: CallContext, request: { orderId: string }): Promise<PaymentView> {
    const [payment] = await this.queries.execute(new GetPaymentsQuery([request.orderId], ctx));
    if (!payment) throw notFound('payment-not-found', `no payment for order ${request.orderId}`);
    return payment;
  }

  async getPayments(ctx: CallContext, request: { orderIds: string[] }): Promise<{ payments: PaymentView[] }> {
    return { payments: await this.queries.execute(new GetPaymentsQuery([...new Set(request.orderIds)], ctx)) };
  }

  holdPaymentMethod(ctx: CallContext, request: { token: string; customerId?: string }) {
    return this.commands.execute(new HoldPaymentMethodCommand(customerHeldFor(ctx, request.customerId), request.token));
  }
}
