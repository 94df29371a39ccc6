import { Inject, Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import { IDEMPOTENCY_OPTIONS, type IdempotencyOptions } from '../application/place-order/idempotency.options';

export interface StoredIdempotencyKey {
  readonly orderId: string;
  readonly requestHash: string;
  /** False while the request that claimed the key is still placing its order. */
  readonly completed: boolean;
}

export type KeyClaim = { readonly claimed: true } | { readonly claimed: false; readonly holder: StoredIdempotencyKey };

/**
 * Idempotency-Key of POST /orders: one order per customer and key while the key lives
 * (FICUS_IDEMPOTENCY_TTL_HOURS). A request claims its key before it does anything, in a statement
 * of its own, so that a duplicate arriving meanwhile finds the key held; the claim is completed
 * in the transaction that stores the order, or released when the order is not placed.
 */
@Injectable()
export class IdempotencyKeys {
  constructor(
    private readonly uow: UnitOfWork,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyOptions,
  ) {}

  /**
   * Claims the key for `orderId`, unless another request holds it. An expired key, or a claim
   * whose request has run out of time without completing (`heldUntil`), is taken over.
   */
  async claim(
    customerId: string,
    key: string,
    requestHash: string,
    orderId: string,
    heldUntil: Date,
  ): Promise<KeyClaim> {
    if (this.uow.inTransaction)
      throw new Error('an idempotency key is claimed outside the order transaction, to be seen at once');
    const taken = (await this.uow.manager.query(
      `INSERT INTO order_idempotency_keys AS k (customer_id, idempotency_key, request_hash, order_id, held_until)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (customer_id, idempotency_key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, order_id = EXCLUDED.order_id, created_at = now(),
             completed_at = NULL, held_until = EXCLUDED.held_until
         WHERE k.created_at < now() - make_interval(hours => $6::int)
            OR (k.completed_at IS NULL AND k.held_until < now())
       RETURNING order_id`,
      [customerId, key, requestHash, orderId, heldUntil, this.options.ttlHours],
    )) as unknown[];
    if (taken.length === 1) return { claimed: true };
    const holder = await this.find(customerId, key);
    // Released between our insert and our look: the caller may simply try again.
    return holder ? { claimed: false, holder } : this.claim(customerId, key, requestHash, orderId, heldUntil);
  }

  /** In the order's transaction: from now on the key replays this order. */
  async complete(customerId: string, key: string, orderId: string): Promise<void> {
    await this.uow.defer(
      'UPDATE order_idempotency_keys SET completed_at = now(), held_until = NULL WHERE customer_id = $1 AND ' +
        'idempotency_key = $2 AND order_id = $3',
      [customerId, key, orderId],
    );
  }

  /** The order was not placed: the key is free again, so a corrected retry may use it. */
  async release(customerId: string, key: string, orderId: string): Promise<void> {
    await this.uow.manager.query(
      'DELETE FROM order_idempotency_keys WHERE customer_id = $1 AND idempotency_key = $2 AND order_id = $3 ' +
        'AND completed_at IS NULL',
      [customerId, key, orderId],
    );
  }

  /** Keys past their life answer nothing any more: removing them only saves space. */
  async purgeExpired(): Promise<number> {
    const [, deleted] = (await this.uow.manager.query(
      'DELETE FROM order_idempotency_keys WHERE created_at < now() - make_interval(hours => $1::int)',
      [this.options.ttlHours],
    )) as [unknown, number];
    return deleted;
  }

  private async find(customerId: string, key: string): Promise<StoredIdempotencyKey | undefined> {
    const [row] = (await this.uow.manager.query(
      'SELECT order_id, request_hash, completed_at FROM order_idempotency_keys WHERE customer_id = $1 AND ' +
        'idempotency_key = $2',
      [customerId, key],
    )) as Array<{ order_id: string; request_hash: string; completed_at: Date | null }>;
    return row
      ? { orderId: row.order_id, requestHash: row.request_hash, completed: row.completed_at !== null }
      : undefined;
  }
}
