import { Injectable } from '@nestjs/common';
import { conflict, type EventOrigin, type Envelope } from '@contracts/kernel';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import { randomUUID } from 'node:crypto';
import { Order } from '../domain/order';
import type { OrderEvent, StoredOrderEvent } from '../domain/order-events';

export const ORDER_EVENTS_TABLE = 'order_events';

interface EventRow {
  type: OrderEvent['type'];
  version: number;
  payload: OrderEvent['data'];
  stream_version: number;
  occurred_at: Date;
}

/** An event as read from its row: order-created comes in the version it was stored as. */
function eventOf(row: EventRow): OrderEvent {
  return { type: row.type, version: row.version, data: row.payload } as OrderEvent;
}

/** Thrown when another writer appended to the stream first; the caller reloads and tries again. */
export class StreamVersionConflict extends Error {
  override readonly name = 'StreamVersionConflict';
  /** Lost a race, not a bug: the step is tried again on the fresh stream. */
  readonly transient = true;
}

/**
 * Append-only streams of order events with optimistic concurrency: a writer appends at the
 * version it loaded, and the unique (stream, version) key turns a lost race into a conflict
 * instead of a fork.
 */
@Injectable()
export class OrderEventStore {
  constructor(
    private readonly uow: UnitOfWork,
    /** The event store is the context's outbox: appending an event is publishing it. */
    private readonly outbox: Outbox,
  ) {}

  /**
   * Makes concurrent writers of one stream take turns (until the transaction ends). Saga steps of
   * one order arrive from several relays at once; without this they would mostly collide on the
   * version check and retry with backoff. The version check stays the guarantee; this only makes
   * collisions rare.
   */
  async lockStream(orderId: string): Promise<void> {
    await this.uow.manager.query("SELECT pg_advisory_xact_lock(hashtext('ordering.order:' || $1))", [orderId]);
  }

  /**
   * The same lock as `lockStream`, without waiting: false when another writer holds it now. For
   * work that can as well be done later (the saga deadline sweep).
   */
  async tryLockStream(orderId: string): Promise<boolean> {
    const [row] = (await this.uow.manager.query(
      "SELECT pg_try_advisory_xact_lock(hashtext('ordering.order:' || $1)) AS locked",
      [orderId],
    )) as Array<{ locked: boolean }>;
    return row.locked;
  }

  /** The origin of the order's saga (its order-created): what events ordering adds on its own continue. */
  async sagaOrigin(orderId: string): Promise<EventOrigin> {
    const [row] = (await this.uow.manager.query(
      `SELECT message_id, correlation_id, traceparent FROM ${ORDER_EVENTS_TABLE} WHERE aggregate_id = $1 AND ` +
        `stream_version = 1`,
      [orderId],
    )) as Array<{ message_id: string; correlation_id: string; traceparent: string | null }>;
    return row
      ? { correlationId: row.correlation_id, causationId: row.message_id, traceparent: row.traceparent ?? undefined }
      : { correlationId: orderId };
  }

  async load(orderId: string): Promise<Order | undefined> {
    const history = await this.history(orderId);
    return history.length ? Order.fromHistory(history) : undefined;
  }

  async history(orderId: string): Promise<StoredOrderEvent[]> {
    const rows = (await this.uow.manager.query(
      `SELECT type, version, payload, stream_version, occurred_at FROM ${ORDER_EVENTS_TABLE}
        WHERE aggregate_id = $1 ORDER BY stream_version`,
      [orderId],
    )) as EventRow[];
    return rows.map((row) => ({
      event: eventOf(row),
      version: row.stream_version,
      occurredAt: row.occurred_at.toISOString(),
    }));
  }

  /**
   * Appends the order's new events; returns them as stored. Must run inside a transaction; the rows
   * leave with the transaction's next statement or its COMMIT.
   */
  append(order: Order, origin: EventOrigin): StoredOrderEvent[] {
    const expected = order.version;
    const pending = order.takePendingEvents();
    const envelopes: Envelope[] = pending.map(({ event, occurredAt }) => ({
      id: randomUUID(),
      type: event.type,
      version: event.type === 'ordering.order-created' ? event.version : 1,
      occurredAt,
      aggregateId: order.id,
      correlationId: origin.correlationId,
      causationId: origin.causationId,
      traceparent: origin.traceparent,
      payload: event.data,
    }));
    const versions = pending.map((_, i) => expected + i + 1);
    // A deferred write (ADR 0036): a concurrent append at the same version fails the transaction
    // at its next statement or COMMIT, as a conflict the caller retries on the fresh stream.
    this.outbox.append(envelopes, { column: 'stream_version', values: versions }, (error) =>
      (error as { code?: string }).code === '23505'
        ? new StreamVersionConflict(`order ${order.id} changed since version ${expected}`)
        : error,
    );
    return pending.map(({ event, occurredAt }, i) => ({ event, occurredAt, version: versions[i] }));
  }

  /** Every stream, oldest first, for rebuilding read models. */
  async *replayAll(batchSize = 500): AsyncIterable<{ orderId: string; stored: StoredOrderEvent }> {
    let after = '0';
    for (;;) {
      const rows = (await this.uow.manager.query(
        `SELECT seq, aggregate_id, type, version, payload, stream_version, occurred_at FROM ${ORDER_EVENTS_TABLE}
          WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [after, batchSize],
      )) as Array<EventRow & { seq: string; aggregate_id: string }>;
      if (rows.length === 0) return;
      for (const row of rows) {
        yield {
          orderId: row.aggregate_id,
          stored: {
            event: eventOf(row),
            version: row.stream_version,
            occurredAt: row.occurred_at.toISOString(),
          },
        };
      }
      after = rows[rows.length - 1].seq;
    }
  }
}

export function orderConflict(orderId: string): Error {
  return conflict('order-changed-concurrently', `order ${orderId} was changed concurrently; try again`);
}
