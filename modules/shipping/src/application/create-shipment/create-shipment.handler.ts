import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { ShipmentCreated } from '@contracts/shipping';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import { newTrackingNumber } from '../../domain/shipment';
import { ShipmentRepository } from '../../persistence/shipment.repository';
import { CreateShipmentCommand } from './create-shipment.command';

/** Saga step: the order is paid → one shipment with a tracking number, unless the order has failed. */
@CommandHandler(CreateShipmentCommand)
export class CreateShipmentHandler implements ICommandHandler<CreateShipmentCommand, void> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly shipments: ShipmentRepository,
    private readonly outbox: Outbox,
  ) {}

  async execute(command: CreateShipmentCommand): Promise<void> {
    await this.uow.transaction(async () => {
      // Sent together, run in turn: the check runs once the lock is held (ADR 0036).
      const [, cancelled] = await Promise.all([
        this.shipments.lockOrder(command.orderId),
        this.shipments.isOrderCancelled(command.orderId),
      ]);
      // The order failed before its payment reached us (relays of different contexts): no shipment.
      if (cancelled) {
        return;
      }
      const shipment = {
        shipmentId: randomUUID(),
        orderId: command.orderId,
        customerId: command.customerId,
        trackingNumber: newTrackingNumber(),
        status: 'CREATED' as const,
        createdAt: new Date().toISOString(),
      };
      if (await this.shipments.insert(shipment)) {
        await this.outbox.add(
          ShipmentCreated.create(
            { orderId: shipment.orderId, shipmentId: shipment.shipmentId, trackingNumber: shipment.trackingNumber },
            command.origin,
          ),
        );
      }
    });
  }
}
