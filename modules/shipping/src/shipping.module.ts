import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { OrderFailed } from '@contracts/ordering';
import { PaymentCompleted } from '@contracts/payments';
import { ShippingContract } from '@contracts/shipping';
import { FicusModule } from '@infra/runtime';
import { CancelShipmentOnOrderFailed } from './application/cancel-shipment/cancel-shipment-on-order-failed.handler';
import { CancelShipmentHandler } from './application/cancel-shipment/cancel-shipment.handler';
import { CreateShipmentHandler, CreateShipmentOnPaymentCompleted } from './application/create-shipment';
import { GetShipmentsHandler } from './application/get-shipments/get-shipments.handler';
import { ShippingContractAdapter } from './application/shipping.contract-adapter';
import {
  CancelShipmentsOfFailedOrders1764000000501,
  CreateShipments1764000000500,
  RememberWhoseShipmentItIs1764000000520,
} from './persistence/migrations';
import { ShipmentRepository } from './persistence/shipment.repository';

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({
      context: 'shipping',
      entities: [],
      migrations: [
        CreateShipments1764000000500,
        CancelShipmentsOfFailedOrders1764000000501,
        RememberWhoseShipmentItIs1764000000520,
      ],
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
    GetShipmentsHandler,
    ShippingContractAdapter,
    CreateShipmentOnPaymentCompleted,
    CancelShipmentOnOrderFailed,
  ],
})
export class ShippingModule {}
