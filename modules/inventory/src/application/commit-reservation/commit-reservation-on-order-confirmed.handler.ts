import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { PayloadOf } from '@contracts/kernel';
import type { OrderConfirmed } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { CommitReservationCommand } from './commit-reservation.command';

@Injectable()
export class CommitReservationOnOrderConfirmed implements IntegrationEventHandler<typeof OrderConfirmed> {
  constructor(private readonly commands: CommandBus) {}

  async handle(order: PayloadOf<typeof OrderConfirmed>): Promise<void> {
    await this.commands.execute(new CommitReservationCommand(order.orderId));
  }
}
