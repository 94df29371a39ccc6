import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { createHash, randomUUID } from 'node:crypto';
import { CATALOG, type CatalogApi } from '@contracts/catalog';
import { childContext, conflict, deadlineExceeded, failedPrecondition, invalidArgument } from '@contracts/kernel';
import { UnitOfWork } from '@infra/persistence';
import { Order, OrderRuleViolation } from '../../domain/order';
import { IdempotencyKeys, type StoredIdempotencyKey } from '../../persistence/idempotency-keys.repository';
import { OrderEventStore } from '../../persistence/order-event-store';
import { OrderHistoryProjection } from '../../persistence/order-history.projection';
import { PlaceOrderCommand, type PlaceOrderInput } from './place-order.command';

/**
 * Places an order: prices its lines from the catalogue (the one synchronous hop of this request),
 * then stores order-created, which starts the saga. With an idempotency key, the same request
 * twice makes one order; the same key with another request is refused (422), and a duplicate
 * that arrives while the first is still being placed is told to retry (409) rather than wait.
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
    const orderId = randomUUID();
    const key = input.idempotencyKey;
    if (key) {
      // Held past the caller's deadline by a little: the order transaction checks the deadline
      // before it commits, so a claim older than that belongs to a request that gave up.
      const heldUntil = new Date(ctx.deadline + CLAIM_GRACE_MS);
      const claim = await this.keys.claim(input.customerId, key, requestHash, orderId, heldUntil);
      if (!claim.claimed) return answerAsEarlier(claim.holder, requestHash);
    }
    try {
      return await this.place(ctx, input, orderId);
    } catch (error) {
      // Should the release fail too, the claim still lapses at heldUntil.
      if (key) await this.keys.release(input.customerId, key, orderId).catch(() => undefined);
      throw error;
    }
  }

  private async place(ctx: PlaceOrderCommand['ctx'], input: PlaceOrderInput, orderId: string) {
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
          orderId,
          customerId: input.customerId,
          items: input.items.map((item) => ({
            sku: item.sku,
            quantity: item.quantity,
            unitPrice: prices.get(item.sku)!,
          })),
          // The fingerprint only tells retries apart: it stays out of the order and its events.
          payment:
            'paymentToken' in input.payment
              ? { paymentToken: input.payment.paymentToken }
              : { paymentMethodId: input.payment.paymentMethodId },
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
      const stored = this.store.append(order, {
        correlationId: ctx.correlationId,
        causationId: ctx.causationId,
        traceparent: ctx.traceparent,
      });
      await this.history.project(order.id, stored);
      if (input.idempotencyKey) await this.keys.complete(input.customerId, input.idempotencyKey, order.id);
      // The caller has stopped waiting (and may retry): commit nothing it will never hear about.
      if (Date.now() > ctx.deadline) {
        throw deadlineExceeded('deadline-exceeded', 'the order was not placed: the request ran out of time');
      }
      return { orderId: order.id, replayed: false };
    });
  }
}

const CLAIM_GRACE_MS = 5_000;

/** A key someone else holds: their answer, if the request is the same and done. */
function answerAsEarlier(holder: StoredIdempotencyKey, requestHash: string) {
  if (holder.requestHash !== requestHash) {
    throw failedPrecondition('idempotency-key-reused', 'this Idempotency-Key was used with a different request');
  }
  if (!holder.completed) {
    throw conflict(
      'idempotency-key-in-use',
      'a request with this Idempotency-Key is still being processed; retry shortly',
    );
  }
  return { orderId: holder.orderId, replayed: true };
}

/**
 * What makes two requests the same: their lines, and the same card. A retry through the edge
 * holds its card again under a new payment-method id, so the card is payments' fingerprint of it
 * (keyed: unlike a plain hash of a token, nothing here tells which token it was); without one,
 * the id itself. The released placeOrder's requests hash as that release hashed them.
 */
function hashRequest(input: PlaceOrderInput): string {
  const items = input.items.map((item) => [item.sku, item.quantity]);
  const payment = input.payment;
  const canonical =
    'paymentToken' in payment
      ? { items, paymentToken: payment.paymentToken }
      : payment.fingerprint !== undefined
        ? { items, paymentFingerprint: payment.fingerprint }
        : { items, paymentMethodId: payment.paymentMethodId };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
