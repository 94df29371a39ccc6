import { Module, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { StockReserved } from '@contracts/inventory';
import { OrderCreated, OrderFailed } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import { ContextRuntime, FicusModule } from '@infra/runtime';
import { CancelPaymentOnOrderFailed } from './application/cancel-payment/cancel-payment-on-order-failed.handler';
import { CancelPaymentHandler } from './application/cancel-payment/cancel-payment.handler';
import { ChargePaymentOnStockReserved } from './application/charge-payment/charge-payment-on-stock-reserved.handler';
import { ChargePaymentHandler } from './application/charge-payment/charge-payment.handler';
import { GetPaymentHandler } from './application/get-payment/get-payment.handler';
import { OpenPaymentOnOrderCreated } from './application/open-payment/open-payment-on-order-created.handler';
import { PaymentsContractAdapter } from './application/payments.contract-adapter';
import { PAYMENT_PROVIDER } from './domain/payment-provider';
import { CreatePayments1764000000400 } from './persistence/migrations/1764000000400-create-payments';
import { LearnPaymentFactsInAnyOrder1764000000401 } from './persistence/migrations/1764000000401-learn-payment-facts-in-any-order';
import { RefundPaymentsOfFailedOrders1764000000402 } from './persistence/migrations/1764000000402-refund-payments-of-failed-orders';
import { RememberWhosePaymentItIs1764000000420 } from './persistence/migrations/1764000000420-remember-whose-payment-it-is';
import { PaymentRepository } from './persistence/payment.repository';
import { paymentProviderOf } from './provider/payment-providers';

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({
      context: 'payments',
      entities: [],
      migrations: [
        CreatePayments1764000000400,
        LearnPaymentFactsInAnyOrder1764000000401,
        RefundPaymentsOfFailedOrders1764000000402,
        RememberWhosePaymentItIs1764000000420,
      ],
    }),
  ],
  providers: [
    PaymentRepository,
    {
      // FICUS_PAYMENT_PROVIDER's (the fake unless set); a real one implements the same port.
      provide: PAYMENT_PROVIDER,
      useFactory: (runtime: ContextRuntime) => paymentProviderOf({ env: process.env, connectionUrl: runtime.connectionUrl }),
      inject: [ContextRuntime],
    },
    ChargePaymentHandler,
    CancelPaymentHandler,
    GetPaymentHandler,
    PaymentsContractAdapter,
    OpenPaymentOnOrderCreated,
    ChargePaymentOnStockReserved,
    CancelPaymentOnOrderFailed,
  ],
})
export class PaymentsModule implements OnModuleInit {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly adapter: PaymentsContractAdapter,
    private readonly onOrderCreated: OpenPaymentOnOrderCreated,
    private readonly onStockReserved: ChargePaymentOnStockReserved,
    private readonly onOrderFailed: CancelPaymentOnOrderFailed,
  ) {}

  onModuleInit(): void {
    this.runtime.serve(PaymentsContract, this.adapter);
    this.runtime.consume(OrderCreated, this.onOrderCreated);
    this.runtime.consume(StockReserved, this.onStockReserved);
    this.runtime.consume(OrderFailed, this.onOrderFailed);
  }
}
