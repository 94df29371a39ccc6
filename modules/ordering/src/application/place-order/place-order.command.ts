import { Command } from '@nestjs/cqrs';
import type { CallContext } from '@contracts/kernel';

export interface PlaceOrderInput {
  readonly customerId: string;
  readonly items: ReadonlyArray<{ sku: string; quantity: number }>;
  readonly paymentToken: string;
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
