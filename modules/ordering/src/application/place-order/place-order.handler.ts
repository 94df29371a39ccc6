import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { createHash, randomUUID } from 'node:crypto';
import { CATALOG, type CatalogApi } from '@contracts/catalog';
import { childContext, deadlineExceeded, failedPrecondition, invalidArgument } from '@contracts/kernel';
import { UnitOfWork } from '@infra/persistence';
import { Order, OrderRuleViolation } from '../../domain/order';
import { IdempotencyKeys } from '../../persistence/idempotency-keys.repository';
import { OrderEventStore } from '../../persistence/order-event-store';
import { OrderHistoryProjection } from '../../persistence/order-history.projection';
import { PlaceOrderCommand, type PlaceOrderInput } from './place-order.command';

/**
 * Places an order: prices its lines from the catalogue (the one synchronous hop of this request),
 * then stores order-created, which starts the saga. With an idempotency key, the same request
 * twice makes one order; the same key with another request is refused.
 */
@CommandHandler(PlaceOrderCommand)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrderCommand, { orderId: string; replayed: boolean }> {
  constructor(
    @Inject(CATALOG) private readonly catalog: CatalogApi,
    private readonly uow: UnitOfWork,
    private readonly store: OrderEventStore,
    private readonly history: OrderHistoryProjection,
    private readonly keys: IdempotencyKeys,
  ) {}

  async execute({ ctx, input }: PlaceOrderCommand): Promise<{ orderId: string; replayed: boolean }> {
    const requestHash = hashRequest(input);
    if (input.idempotencyKey) {
      const earlier = await this.replay(input.customerId, input.idempotencyKey, requestHash);
      if (earlier) return earlier;
    }

    const skus = [...new Set(input.items.map((item) => item.sku))];
    const { products, missingSkus } = await this.catalog.getProducts(childContext(ctx), { skus });
    if (missingSkus.length > 0) {
      throw invalidArgument('unknown-sku', `no product has sku ${missingSkus.join(', ')}`, { skus: missingSkus });
    }
    const prices = new Map(products.map((p) => [p.sku, p.price]));

    let order: Order;
    try {
      order = Order.place(
        {
          orderId: randomUUID(),
          customerId: input.customerId,
          items: input.items.map((item) => ({ sku: item.sku, quantity: item.quantity, unitPrice: prices.get(item.sku)! })),
          paymentToken: input.paymentToken,
        },
        new Date().toISOString(),
      );
    } catch (error) {
      if (error instanceof OrderRuleViolation || error instanceof RangeError) {
        throw invalidArgument('invalid-order', error.message);
      }
      throw error;
    }

    return this.uow.transaction(async () => {
      if (input.idempotencyKey && !(await this.keys.claim(input.customerId, input.idempotencyKey, requestHash, order.id))) {
        // A concurrent request with the same key won: answer as it did.
        const earlier = await this.replay(input.customerId, input.idempotencyKey, requestHash);
        if (earlier) return earlier;
      }
      const stored = await this.store.append(order, {
        correlationId: ctx.correlationId,
        causationId: ctx.causationId,
        traceparent: ctx.traceparent,
      });
      await this.history.project(order.id, stored);
      // The caller has stopped waiting (and may retry): commit nothing it will never hear about.
      if (Date.now() > ctx.deadline) {
        throw deadlineExceeded('deadline-exceeded', 'the order was not placed: the request ran out of time');
      }
      return { orderId: order.id, replayed: false };
    });
  }

  private async replay(customerId: string, key: string, requestHash: string) {
    const earlier = await this.keys.find(customerId, key);
    if (!earlier) return undefined;
    if (earlier.requestHash !== requestHash) {
      throw failedPrecondition('idempotency-key-reused', 'this Idempotency-Key was used with a different request');
    }
    return { orderId: earlier.orderId, replayed: true };
  }
}

function hashRequest(input: PlaceOrderInput): string {
  const canonical = JSON.stringify({
    items: input.items.map((item) => [item.sku, item.quantity]),
    paymentToken: input.paymentToken,
  });
  return createHash('sha256').update(canonical).digest('hex');
}
