import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { StockReleased, StockReservationFailed, StockReserved } from '@contracts/inventory';
import { causedBy, type Envelope, type EventDefinition, type PayloadOf } from '@contracts/kernel';
import type { PaymentCompleted, PaymentFailed } from '@contracts/payments';
import type { ShipmentCreated } from '@contracts/shipping';
import type { IntegrationEventHandler } from '@infra/messaging';
import type { Order } from '../../domain/order';
import { RecordSagaStepCommand } from '../record-saga-step/record-saga-step.command';

/** Each listener turns another context's event into a step on the order's stream. */
@Injectable() // emits the constructor's parameter types, which the subclasses inherit
abstract class SagaStepListener<E extends EventDefinition>
  implements IntegrationEventHandler<E>
{
  constructor(private readonly commands: CommandBus) {}

  protected abstract record(order: Order, payload: PayloadOf<E>, at: string): void;

  async handle(payload: PayloadOf<E>, envelope: Envelope): Promise<void> {
    await this.commands.execute(
      new RecordSagaStepCommand(
        (payload as { orderId: string }).orderId,
        (order) => this.record(order, payload, envelope.occurredAt),
        causedBy(envelope),
      ),
    );
  }
}

@Injectable()
export class OnStockReserved extends SagaStepListener<typeof StockReserved> {
  protected record(order: Order, _payload: PayloadOf<typeof StockReserved>, at: string): void {
    order.recordStockReserved(at);
  }
}

@Injectable()
export class OnStockReservationFailed extends SagaStepListener<typeof StockReservationFailed> {
  protected record(order: Order, payload: PayloadOf<typeof StockReservationFailed>, at: string): void {
    order.recordStockUnavailable(payload.unavailableSkus, at);
  }
}

@Injectable()
export class OnStockReleased extends SagaStepListener<typeof StockReleased> {
  protected record(order: Order, _payload: PayloadOf<typeof StockReleased>, at: string): void {
    order.recordStockReleased(at);
  }
}

@Injectable()
export class OnPaymentCompleted extends SagaStepListener<typeof PaymentCompleted> {
  protected record(order: Order, payload: PayloadOf<typeof PaymentCompleted>, at: string): void {
    order.recordPaymentCompleted(payload.providerReference, at);
  }
}

@Injectable()
export class OnPaymentFailed extends SagaStepListener<typeof PaymentFailed> {
  protected record(order: Order, payload: PayloadOf<typeof PaymentFailed>, at: string): void {
    order.recordPaymentFailed(payload.reason, at);
  }
}

@Injectable()
export class OnShipmentCreated extends SagaStepListener<typeof ShipmentCreated> {
  protected record(order: Order, payload: PayloadOf<typeof ShipmentCreated>, at: string): void {
    order.recordShipmentCreated(payload.trackingNumber, at);
  }
}
