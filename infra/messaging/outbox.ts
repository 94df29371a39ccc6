import type { Envelope } from '@contracts/kernel';
import { markActiveSpan, SpanKind, startSpan, tracingRecords } from '@infra/observability';
import type { UnitOfWork } from '@infra/persistence';

export function outboxChannel(context: string): string {
  return `ficus_outbox_${context}`;
}

export interface OutboxOptions {
  /** `outbox`, or the event store that doubles as it. */
  readonly table?: string;
  /** Event types that leave the context; the others are written as already sent. */
  readonly publishes?: (type: string) => boolean;
  /** Hands what a transaction committed on to its subscribers, after the commit. */
  readonly onCommitted?: (envelopes: readonly Envelope[]) => void;
  /**
   * Wake the relay of whichever process relays this outbox (NOTIFY at commit): for a copy that
   * serves calls on its owner's data and does not deliver its events itself (ADR 0034).
   */
  readonly notifyRelay?: boolean;
}

/**
 * Writes integration events into a context's outbox, inside the transaction that made the change.
 * Refuses to write outside one: an event that could commit without its cause, or its cause
 * without it, is the bug the outbox exists to prevent. After the commit the events go straight
 * to the process's dispatcher (OutboxDispatcher); the relay sends what it could not.
 */
export class Outbox {
  readonly table: string;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly options: OutboxOptions = {},
  ) {
    this.table = options.table ?? 'outbox';
  }

  /**
   * Adds events to the open transaction. The row is written with the transaction's next statement
   * or its COMMIT (a deferred write): no round trip of its own.
   */
  add(...envelopes: Envelope[]): Promise<void> {
    try {
      this.write(envelopes, undefined);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Adds events with one more column per row (ordering's stream version), as a deferred write too.
   * A failure of the rows (a unique violation on the version: an event store's optimistic
   * concurrency) fails the transaction with `onError`'s error, at its next statement or COMMIT.
   */
  append(
    envelopes: readonly Envelope[],
    extra: { column: string; values: readonly unknown[] },
    onError?: (error: unknown) => unknown,
  ): void {
    this.write(envelopes, extra, onError);
  }

  private write(
    envelopes: readonly Envelope[],
    extra: { column: string; values: readonly unknown[] } | undefined,
    onError?: (error: unknown) => unknown,
  ): void {
    if (!this.uow.inTransaction) {
      throw new Error(`${this.uow.context}: events go into the outbox only inside a transaction`);
    }
    if (envelopes.length === 0) return;
    const { sql, params, written } = outboxInsert(
      this.uow.context,
      this.table,
      envelopes,
      this.options.publishes,
      extra,
    );
    // As written: the dispatcher's publish hangs where the relay's would, below the row's traceparent.
    const leaving = written.filter((envelope) => this.options.publishes?.(envelope.type) ?? true);
    if (this.options.notifyRelay)
      this.uow.defer('SELECT pg_notify($1, $2)', [outboxChannel(this.uow.context), this.table]);
    const onCommitted = this.options.onCommitted;
    if (onCommitted && leaving.length > 0) this.uow.afterCommit(() => onCommitted(leaving));
    void this.uow.defer(sql, params, { onError });
  }
}

/**
 * The INSERT of outbox rows, and the envelopes as written: each with the traceparent of what caused
 * it, so that its publish and every consumer hang below that. When spans are recorded, each write is
 * an `outbox <type>` event of the span of the transaction that makes it, not a span of its own: about
 * a fifth of an order's spans were these, and a span costs several times an event (ADR 0021
 * addendum); only a write with no span active gets a span. Rows of types that never leave the
 * context are written as sent already.
 */
export function outboxInsert(
  context: string,
  table: string,
  envelopes: readonly Envelope[],
  publishes?: (type: string) => boolean,
  extra?: { column: string; values: readonly unknown[] },
): { sql: string; params: unknown[]; written: Envelope[] } {
  const columns = [
    'message_id',
    'type',
    'version',
    'aggregate_id',
    'correlation_id',
    'causation_id',
    'traceparent',
    'payload',
    'occurred_at',
  ];
  if (extra) columns.push(extra.column);
  columns.push('published_at');
  const params: unknown[] = [];
  const written: Envelope[] = [];
  const recorded = tracingRecords();
  const rows = envelopes.map((e, i) => {
    const traceparent = recorded ? recordWrite(context, e) : e.traceparent;
    written.push(traceparent === e.traceparent ? e : { ...e, traceparent });
    const values: unknown[] = [
      e.id,
      e.type,
      e.version,
      e.aggregateId,
      e.correlationId,
      e.causationId ?? null,
      traceparent ?? null,
      JSON.stringify(e.payload),
      e.occurredAt,
    ];
    if (extra) values.push(extra.values[i]);
    const placeholders = values.map((value) => {
      params.push(value);
      return `$${params.length}`;
    });
    placeholders.push((publishes?.(e.type) ?? true) ? 'NULL' : 'now()');
    return `(${placeholders.join(', ')})`;
  });
  return { sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.join(', ')}`, params, written };
}

/**
 * Records an outbox write (spans are recorded): an event of the active span, or, with no span
 * active (a timer's work), a span of its own below what caused the write, whose traceparent the row
 * then carries so that the publish hangs below it.
 */
function recordWrite(context: string, envelope: Envelope): string | undefined {
  const what = `outbox ${envelope.type}`;
  const attributes = { 'ficus.context': context, 'messaging.message.id': envelope.id };
  if (markActiveSpan(what, attributes)) return envelope.traceparent;
  const own = startSpan(what, { kind: SpanKind.PRODUCER, parent: envelope.traceparent, attributes });
  own.span.end();
  return own.traceparent;
}
