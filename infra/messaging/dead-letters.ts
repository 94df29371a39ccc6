import type { Envelope, EventDefinition } from '@contracts/kernel';
import type { UnitOfWork } from '@infra/persistence';
import type { InboxConsumer } from './event-consumer';

export interface DeadLetterView {
  readonly id: string;
  readonly context: string;
  readonly messageId: string;
  readonly consumer: string;
  readonly type: string;
  readonly version: number;
  readonly reason: string;
  readonly attempts: number;
  readonly failedAt: string;
  readonly replayedAt: string | null;
  readonly envelope: Envelope;
}

interface DeadLetterRow {
  id: string;
  message_id: string;
  consumer: string;
  type: string;
  version: number;
  reason: string;
  attempts: number;
  failed_at: Date;
  replayed_at: Date | null;
  envelope: Envelope;
}

export type ReplayOutcome = 'processed' | 'already-processed' | 'failed-again';

/** A context's dead letters: listed for an operator, replayed once the cause is fixed. */
export class DeadLetters {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly consumers: ReadonlyMap<string, InboxConsumer<EventDefinition>>,
  ) {}

  async list(options: { includeReplayed?: boolean } = {}): Promise<DeadLetterView[]> {
    const rows = (await this.uow.manager.query(
      `SELECT * FROM dead_letters ${options.includeReplayed ? '' : 'WHERE replayed_at IS NULL'} ORDER BY id LIMIT 500`,
    )) as DeadLetterRow[];
    return rows.map((row) => this.view(row));
  }

  async replay(id: string): Promise<ReplayOutcome | 'not-found'> {
    const [row] = (await this.uow.manager.query('SELECT * FROM dead_letters WHERE id = $1', [id])) as DeadLetterRow[];
    if (!row) return 'not-found';
    const consumer = this.consumers.get(row.consumer);
    if (!consumer) {
      throw new Error(`no consumer ${row.consumer} runs in ${this.uow.context} any more`);
    }
    try {
      const parsed = consumer.definition.schema.parse(row.envelope.payload);
      const processed = await consumer.processOnce({ ...row.envelope, payload: parsed });
      await this.uow.manager.query('UPDATE dead_letters SET replayed_at = now() WHERE id = $1', [id]);
      return processed ? 'processed' : 'already-processed';
    } catch (error) {
      await this.uow.manager.query(
        'UPDATE dead_letters SET reason = $2, attempts = attempts + 1, failed_at = now() WHERE id = $1',
        [id, `replay failed: ${error instanceof Error ? error.message : String(error)}`],
      );
      return 'failed-again';
    }
  }

  private view(row: DeadLetterRow): DeadLetterView {
    return {
      id: String(row.id),
      context: this.uow.context,
      messageId: row.message_id,
      consumer: row.consumer,
      type: row.type,
      version: row.version,
      reason: row.reason,
      attempts: row.attempts,
      failedAt: row.failed_at.toISOString(),
      replayedAt: row.replayed_at?.toISOString() ?? null,
      envelope: row.envelope,
    };
  }
}
