import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { causedBy, type Envelope, type PayloadOf } from '@contracts/kernel';
import type { OrderCreated, OrderCreatedV2 } from '@contracts/ordering';
import type { IntegrationEventHandler } from '@infra/messaging';
import { ReserveStockCommand } from '../reserve-stock/reserve-stock.command';

/**
 * Saga step: an order was created → reserve its stock (or say it is out of stock). Both versions
 * of order-created: they differ only in how the order pays, which inventory never reads.
 */
@Injectable()
export class ReserveStockOnOrderCreated implements IntegrationEventHandler<
  typeof OrderCreatedV2 | typeof OrderCreated
> {
  constructor(private readonly commands: CommandBus) {}

  async handle(order: PayloadOf<typeof OrderCreatedV2 | typeof OrderCreated>, envelope: Envelope): Promise<void> {
    await this.commands.execute(
      new ReserveStockCommand(
        order.orderId,
        order.items.map((item) => ({ sku: item.sku, quantity: item.quantity })),
        causedBy(envelope),
      ),
    );
  }
}
