import type { EntityManager } from 'typeorm';
import type { Envelope } from '@contracts/kernel';
import { SpanKind, startSpan } from '@infra/observability';
import type { UnitOfWork } from '@infra/persistence';

export function outboxChannel(context: string): string {
  return `ficus_outbox_${context}`;
}

/**
 * Writes integration events into a context's outbox, inside the transaction that made the change.
 * Refuses to write outside one: an event that could commit without its cause, or its cause
 * without it, is the bug the outbox exists to prevent. The NOTIFY fires at commit and wakes the
 * relay at once, in this process or another.
 */
export class Outbox {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly table = 'outbox',
  ) {}

  async add(...envelopes: Envelope[]): Promise<void> {
    if (!this.uow.inTransaction) {
      throw new Error(`${this.uow.context}: events go into the outbox only inside a transaction`);
    }
    await writeOutboxRows(this.uow.manager, this.uow.context, this.table, envelopes);
  }
}

export async function writeOutboxRows(
  manager: EntityManager,
  context: string,
  table: string,
  envelopes: readonly Envelope[],
  extra?: { column: string; values: readonly unknown[] },
): Promise<void> {
  if (envelopes.length === 0) {
    return;
  }
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
  // A span per event written, child of what caused it; the row keeps the span's traceparent, so
  // the publish and every consumer hang below it in the trace.
  const spans = envelopes.map((e) =>
    startSpan(`outbox ${e.type}`, { kind: SpanKind.PRODUCER, parent: e.traceparent, attributes: { 'ficus.context': context, 'messaging.message.id': e.id } }),
  );
  try {
    const params: unknown[] = [];
    const rows = envelopes.map((e, i) => {
      const values: unknown[] = [
        e.id,
        e.type,
        e.version,
        e.aggregateId,
        e.correlationId,
        e.causationId ?? null,
        spans[i].traceparent ?? null,
        JSON.stringify(e.payload),
        e.occurredAt,
      ];
      if (extra) values.push(extra.values[i]);
      const placeholders = values.map((value) => {
        params.push(value);
        return `$${params.length}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    await manager.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.join(', ')}`, params);
    await manager.query('SELECT pg_notify($1, $2)', [outboxChannel(context), table]);
  } finally {
    spans.forEach(({ span }) => span.end());
  }
}
