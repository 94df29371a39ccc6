import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { InventoryContract } from '@contracts/inventory';
import { OrderConfirmed, OrderCreated, OrderCreatedV2, OrderFailed } from '@contracts/ordering';
import { PaymentFailed } from '@contracts/payments';
import { DemoSeedSettings } from '@infra/config';
import { FicusModule } from '@infra/runtime';
import { CommitReservationHandler, CommitReservationOnOrderConfirmed } from './application/commit-reservation';
import { CheckStockHandler } from './application/check-stock/check-stock.handler';
import { InventoryContractAdapter } from './application/inventory.contract-adapter';
import { ReserveStockOnOrderCreated } from './application/on-order-created/reserve-stock-on-order-created.handler';
import { ReleaseStockOnOrderFailed } from './application/on-order-failed/release-stock-on-order-failed.handler';
import { ReleaseStockOnPaymentFailed } from './application/on-payment-failed/release-stock-on-payment-failed.handler';
import { ReleaseStockHandler } from './application/release-stock/release-stock.handler';
import { ReserveStockHandler } from './application/reserve-stock/reserve-stock.handler';
import { RestockHandler } from './application/restock/restock.handler';
import { SeedDemoStock } from './application/seed-demo-stock';
import { StockChanges } from './application/stock-changes';
import { CreateStock1764000000200 } from './persistence/migrations/1764000000200-create-stock';
import { CancelledReservations1764000000201 } from './persistence/migrations/1764000000201-cancelled-reservations';
import { AddStockOnHand1764000000202 } from './persistence/migrations/1764000000202-add-stock-on-hand';
import { BackfillStockOnHand1764000000203 } from './persistence/migrations/1764000000203-backfill-stock-on-hand';
import { StockRepository } from './persistence/stock.repository';

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({
      context: 'inventory',
      settings: [DemoSeedSettings],
      entities: [],
      migrations: [
        CreateStock1764000000200,
        CancelledReservations1764000000201,
        AddStockOnHand1764000000202,
        BackfillStockOnHand1764000000203,
      ],
      serves: [InventoryContract, InventoryContractAdapter],
      consumes: [
        [OrderCreatedV2, ReserveStockOnOrderCreated],
        [OrderCreated, ReserveStockOnOrderCreated],
        [PaymentFailed, ReleaseStockOnPaymentFailed],
        [OrderConfirmed, CommitReservationOnOrderConfirmed],
        [OrderFailed, ReleaseStockOnOrderFailed],
      ],
    }),
  ],
  providers: [
    StockRepository,
    StockChanges,
    ReserveStockHandler,
    ReleaseStockHandler,
    RestockHandler,
    CheckStockHandler,
    CommitReservationHandler,
    CommitReservationOnOrderConfirmed,
    InventoryContractAdapter,
    ReserveStockOnOrderCreated,
    ReleaseStockOnPaymentFailed,
    ReleaseStockOnOrderFailed,
    SeedDemoStock,
  ],
})
export class InventoryModule {}
