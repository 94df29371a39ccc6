import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { OrderFailed } from '@contracts/ordering';
import { PaymentCompleted } from '@contracts/payments';
import { ShippingContract } from '@contracts/shipping';
import { FicusModule } from '@infra/runtime';
import { CancelShipmentOnOrderFailed } from './application/cancel-shipment/cancel-shipment-on-order-failed.handler';
import { CancelShipmentHandler } from './application/cancel-shipment/cancel-shipment.handler';
import { CreateShipmentOnPaymentCompleted } from './application/create-shipment/create-shipment-on-payment-completed.handler';
import { CreateShipmentHandler } from './application/create-shipment/create-shipment.handler';
import { GetShipmentHandler } from './application/get-shipment/get-shipment.handler';
import { ShippingContractAdapter } from './application/shipping.contract-adapter';
import { CreateShipments1764000000500 } from './persistence/migrations/1764000000500-create-shipments';
import { CancelShipmentsOfFailedOrders1764000000501 } from './persistence/migrations/1764000000501-cancel-shipments-of-failed-orders';
import { RememberWhoseShipmentItIs1764000000520 } from './persistence/migrations/1764000000520-remember-whose-shipment-it-is';
import { ShipmentRepository } from './persistence/shipment.repository';

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({
      context: 'shipping',
      entities: [],
      migrations: [CreateShipments1764000000500, CancelShipmentsOfFailedOrders1764000000501, RememberWhoseShipmentItIs1764000000520],
      serves: [ShippingContract, ShippingContractAdapter],
      consumes: [
        [PaymentCompleted, CreateShipmentOnPaymentCompleted],
        [OrderFailed, CancelShipmentOnOrderFailed],
      ],
    }),
  ],
  providers: [
    ShipmentRepository,
    CreateShipmentHandler,
    CancelShipmentHandler,
    GetShipmentHandler,
    ShippingContractAdapter,
    CreateShipmentOnPaymentCompleted,
    CancelShipmentOnOrderFailed,
  ],
})
export class ShippingModule {}
