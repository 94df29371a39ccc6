import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { causedBy, type Envelope, type PayloadOf } from '@contracts/kernel';
import type { OrderFailed } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { ReleaseStockCommand } from '../release-stock/release-stock.command';

/**
 * Saga compensation: the order failed (whatever the reason: a saga past its deadline, most
 * often) → give its stock back if it still holds any. An order that failed for want of stock, or
 * whose stock a failed payment already gave back, has nothing left to release: a no-op, as is a
 * redelivery. If order-created has not been handled yet, the order is marked cancelled so that it
 * never reserves.
 */
@Injectable()
export class ReleaseStockOnOrderFailed implements IntegrationEventHandler<typeof OrderFailed> {
  constructor(private readonly commands: CommandBus) {}

  async handle(order: PayloadOf<typeof OrderFailed>, envelope: Envelope): Promise<void> {
    await this.commands.execute(
      new ReleaseStockCommand(order.orderId, `order-failed: ${order.reason}`, causedBy(envelope), {
        orderCancelled: true,
      }),
    );
  }
}
