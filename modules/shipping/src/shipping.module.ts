import { Module, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { PaymentCompleted } from '@contracts/payments';
import { ShippingContract } from '@contracts/shipping';
import { ContextRuntime, FicusModule } from '@infra/runtime';
import { CreateShipmentOnPaymentCompleted } from './application/create-shipment/create-shipment-on-payment-completed.handler';
import { CreateShipmentHandler } from './application/create-shipment/create-shipment.handler';
import { GetShipmentHandler } from './application/get-shipment/get-shipment.handler';
import { ShippingContractAdapter } from './application/shipping.contract-adapter';
import { CreateShipments1764000000500 } from './persistence/migrations/1764000000500-create-shipments';
import { ShipmentRepository } from './persistence/shipment.repository';

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({ context: 'shipping', entities: [], migrations: [CreateShipments1764000000500] }),
  ],
  providers: [
    ShipmentRepository,
    CreateShipmentHandler,
    GetShipmentHandler,
    ShippingContractAdapter,
    CreateShipmentOnPaymentCompleted,
  ],
})
export class ShippingModule implements OnModuleInit {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly adapter: ShippingContractAdapter,
    private readonly onPaymentCompleted: CreateShipmentOnPaymentCompleted,
  ) {}

  onModuleInit(): void {
    this.runtime.serve(ShippingContract, this.adapter);
    this.runtime.consume(PaymentCompleted, this.onPaymentCompleted);
  }
}
