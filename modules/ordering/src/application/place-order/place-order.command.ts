import { Command } from '@nestjs/cqrs';
import type { CallContext } from '@contracts/kernel';

export interface PlaceOrderInput {
  readonly customerId: string;
  readonly items: ReadonlyArray<{ sku: string; quantity: number }>;
  /**
   * A payment method payments holds, with payments' fingerprint of its card (what tells a retry
   * from another request); or, from callers of the released placeOrder only, the card token.
   */
  readonly payment:
    { readonly paymentMethodId: string; readonly fingerprint?: string } | { readonly paymentToken: string };
  readonly idempotencyKey?: string;
}

export class PlaceOrderCommand extends Command<{ orderId: string; replayed: boolean }> {
  constructor(
    readonly ctx: CallContext,
    readonly input: PlaceOrderInput,
  ) {
    super();
  }
}
