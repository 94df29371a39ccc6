import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { UnitOfWork } from '@infra/persistence';
import { ShipmentRepository } from '../../persistence/shipment.repository';
import { CancelShipmentCommand } from './cancel-shipment.command';

/**
 * Saga compensation: the order failed. Its shipment, if it has one, is cancelled; either way the
 * cancellation is remembered, so that a payment-completed arriving later creates none. Under the
 * order's lock, so a shipment being created at the same moment is either cancelled or never made.
 */
@CommandHandler(CancelShipmentCommand)
export class CancelShipmentHandler implements ICommandHandler<CancelShipmentCommand, { cancelled: boolean }> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly shipments: ShipmentRepository,
  ) {}

  execute(command: CancelShipmentCommand): Promise<{ cancelled: boolean }> {
    return this.uow.transaction(async () => {
      await this.shipments.lockOrder(command.orderId);
      await this.shipments.recordOrderCancelled(command.orderId, command.reason);
      return { cancelled: await this.shipments.cancelForOrder(command.orderId) };
    });
  }
}
