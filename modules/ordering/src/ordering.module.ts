import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CatalogContract } from '@contracts/catalog';
import { StockReleased, StockReservationFailed, StockReserved } from '@contracts/inventory';
import { OrderConfirmed, OrderCreated, OrderFailed, OrderingContract } from '@contracts/ordering';
import { PaymentCompleted, PaymentFailed } from '@contracts/payments';
import { ShipmentCreated } from '@contracts/shipping';
import { FicusModule } from '@infra/runtime';
import { ExpireOverdueOrdersHandler } from './application/expire-overdue-orders/expire-overdue-orders.handler';
import { SagaDeadlineSettings } from './application/expire-overdue-orders/saga-deadline.options';
import { SagaDeadlineSweeper } from './application/expire-overdue-orders/saga-deadline.sweeper';
import { GetOrderHandler } from './application/get-order/get-order.handler';
import { ListCustomerOrdersHandler } from './application/list-customer-orders/list-customer-orders.handler';
import { OrderingContractAdapter } from './application/ordering.contract-adapter';
import { OrdersByStatusGauge } from './application/orders-by-status/orders-by-status.gauge';
import { ExpiredIdempotencyKeysSweeper } from './application/place-order/expired-idempotency-keys.sweeper';
import { IdempotencySettings } from './application/place-order/idempotency.options';
import { PlaceOrderHandler } from './application/place-order/place-order.handler';
import { RebuildOrderHistoryHandler } from './application/rebuild-order-history/rebuild-order-history.handler';
import {
  RecordSagaStepHandler,
  RecordSagaStepOnPaymentCompleted,
  RecordSagaStepOnPaymentFailed,
  RecordSagaStepOnShipmentCreated,
  RecordSagaStepOnStockReleased,
  RecordSagaStepOnStockReservationFailed,
  RecordSagaStepOnStockReserved,
} from './application/record-saga-step';
import { IdempotencyKeys } from './persistence/idempotency-keys.repository';
import { CreateOrderEventStore1764000000300 } from './persistence/migrations/1764000000300-create-order-event-store';
import { IndexPendingOrders1764000000301 } from './persistence/migrations/1764000000301-index-pending-orders';
import { ExpireIdempotencyKeys1764000000302 } from './persistence/migrations/1764000000302-expire-idempotency-keys';
import { ScrubCardTokens1764000000303 } from './persistence/migrations/1764000000303-scrub-card-tokens';
import { ORDER_EVENTS_TABLE, OrderEventStore } from './persistence/order-event-store';
import { OrderHistoryProjection } from './persistence/order-history.projection';

/** Integration events that leave ordering; the other event types of an order stream stay inside. */
const PUBLISHED = new Set([OrderCreated.type, OrderConfirmed.type, OrderFailed.type]);

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({
      context: 'ordering',
      entities: [],
      migrations: [
        CreateOrderEventStore1764000000300,
        IndexPendingOrders1764000000301,
        ExpireIdempotencyKeys1764000000302,
        ScrubCardTokens1764000000303,
      ],
      uses: [CatalogContract],
      outbox: { table: ORDER_EVENTS_TABLE, publishes: (type) => PUBLISHED.has(type) },
      serves: [OrderingContract, OrderingContractAdapter],
      consumes: [
        [StockReserved, RecordSagaStepOnStockReserved],
        [StockReservationFailed, RecordSagaStepOnStockReservationFailed],
        [StockReleased, RecordSagaStepOnStockReleased],
        [PaymentCompleted, RecordSagaStepOnPaymentCompleted],
        [PaymentFailed, RecordSagaStepOnPaymentFailed],
        [ShipmentCreated, RecordSagaStepOnShipmentCreated],
      ],
      settings: [IdempotencySettings, SagaDeadlineSettings],
    }),
  ],
  providers: [
    OrderEventStore,
    OrderHistoryProjection,
    IdempotencyKeys,
    ExpiredIdempotencyKeysSweeper,
    PlaceOrderHandler,
    RecordSagaStepHandler,
    GetOrderHandler,
    ListCustomerOrdersHandler,
    RebuildOrderHistoryHandler,
    ExpireOverdueOrdersHandler,
    SagaDeadlineSweeper,
    OrdersByStatusGauge,
    OrderingContractAdapter,
    RecordSagaStepOnStockReserved,
    RecordSagaStepOnStockReservationFailed,
    RecordSagaStepOnStockReleased,
    RecordSagaStepOnPaymentCompleted,
    RecordSagaStepOnPaymentFailed,
    RecordSagaStepOnShipmentCreated,
  ],
})
export class OrderingModule {}
