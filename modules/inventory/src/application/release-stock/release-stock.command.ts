import { Command } from '@nestjs/cqrs';
import type { EventOrigin } from '@contracts/kernel';

export class ReleaseStockCommand extends Command<{ released: boolean }> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
    readonly origin: EventOrigin,
    /**
     * The order is over for good (it failed): when nothing was reserved for it yet, remember
     * that, so a late order-created never reserves stock that nothing would ever give back.
     */
    readonly options: { readonly orderCancelled?: boolean } = {},
  ) {
    super();
  }
}
