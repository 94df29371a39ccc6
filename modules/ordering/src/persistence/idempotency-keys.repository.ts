import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';

export interface StoredIdempotencyKey {
  readonly orderId: string;
  readonly requestHash: string;
}

/** Idempotency-Key of POST /orders: one order per customer and key. */
@Injectable()
export class IdempotencyKeys {
  constructor(private readonly uow: UnitOfWork) {}

  async find(customerId: string, key: string): Promise<StoredIdempotencyKey | undefined> {
    const [row] = (await this.uow.manager.query(
      'SELECT order_id, request_hash FROM order_idempotency_keys WHERE customer_id = $1 AND idempotency_key = $2',
      [customerId, key],
    )) as Array<{ order_id: string; request_hash: string }>;
    return row ? { orderId: row.order_id, requestHash: row.request_hash } : undefined;
  }

  /** False when another request holds the key already. */
  async claim(customerId: string, key: string, requestHash: string, orderId: string): Promise<boolean> {
    const inserted = (await this.uow.manager.query(
      `INSERT INTO order_idempotency_keys (customer_id, idempotency_key, request_hash, order_id)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING order_id`,
      [customerId, key, requestHash, orderId],
    )) as unknown[];
    return inserted.length === 1;
  }
}
