import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { StockReserved } from '@contracts/inventory';
import { OrderCreated, OrderCreatedV2, OrderFailed } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import { ContextRuntime, FicusModule } from '@infra/runtime';
import { KeyEncryptionSettings } from '@infra/security';
import { CardCharges } from './application/card-charges';
import { CancelPaymentOnOrderFailed } from './application/cancel-payment/cancel-payment-on-order-failed.handler';
import { CancelPaymentHandler } from './application/cancel-payment/cancel-payment.handler';
import { ChargePaymentOnStockReserved } from './application/charge-payment/charge-payment-on-stock-reserved.handler';
import { ChargePaymentHandler } from './application/charge-payment/charge-payment.handler';
import { ProviderRetries } from './application/provider-retries';
import { GetPaymentsHandler } from './application/get-payments/get-payments.handler';
import { HoldPaymentMethodHandler } from './application/hold-payment-method/hold-payment-method.handler';
import { UnusedPaymentMethodsSweeper } from './application/hold-payment-method/unused-payment-methods.sweeper';
import { OpenPaymentOnOrderCreatedV1 } from './application/open-payment/open-payment-on-order-created-v1.handler';
import { OpenPaymentOnOrderCreated } from './application/open-payment/open-payment-on-order-created.handler';
import { PaymentsContractAdapter } from './application/payments.contract-adapter';
import { PAYMENT_PROVIDER } from './domain/payment-provider';
import {
  CreatePayments1764000000400,
  ErasePlainCardTokens1764000000404,
  LearnPaymentFactsInAnyOrder1764000000401,
  RefundPaymentsOfFailedOrders1764000000402,
  RememberWhosePaymentItIs1764000000420,
  RetryProviderCalls1764000000421,
  VaultPaymentMethods1764000000403,
} from './persistence/migrations';
import { PaymentMethodVault } from './persistence/payment-method.vault';
import { PaymentRepository } from './persistence/payment.repository';
import { paymentProviderOf, PaymentProviderSettings, type ProviderSettings } from './provider/payment-providers';

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
        VaultPaymentMethods1764000000403,
        ErasePlainCardTokens1764000000404,
        RememberWhosePaymentItIs1764000000420,
        RetryProviderCalls1764000000421,
      ],
      serves: [PaymentsContract, PaymentsContractAdapter],
      consumes: [
        [OrderCreatedV2, OpenPaymentOnOrderCreated],
        [OrderCreated, OpenPaymentOnOrderCreatedV1],
        [StockReserved, ChargePaymentOnStockReserved],
        [OrderFailed, CancelPaymentOnOrderFailed],
      ],
      // The vault's key refuses to start with NODE_ENV=production and no FICUS_KEY_ENCRYPTION_KEYS.
      settings: [KeyEncryptionSettings, PaymentProviderSettings],
    }),
  ],
  providers: [
    PaymentRepository,
    PaymentMethodVault,
    CardCharges,
    HoldPaymentMethodHandler,
    UnusedPaymentMethodsSweeper,
    {
      // FICUS_PAYMENT_PROVIDER's (the fake unless set); a real one implements the same port.
      provide: PAYMENT_PROVIDER,
      useFactory: (runtime: ContextRuntime, env: ProviderSettings['env']) =>
        paymentProviderOf({ env, connectionUrl: runtime.connectionUrl }),
      inject: [ContextRuntime, PaymentProviderSettings.token],
    },
    ChargePaymentHandler,
    CancelPaymentHandler,
    ProviderRetries,
    GetPaymentsHandler,
    PaymentsContractAdapter,
    OpenPaymentOnOrderCreated,
    OpenPaymentOnOrderCreatedV1,
    ChargePaymentOnStockReserved,
    CancelPaymentOnOrderFailed,
  ],
})
export class PaymentsModule {}
