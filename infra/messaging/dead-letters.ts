import type { Envelope, EventDefinition } from '@contracts/kernel';
import { withoutSecrets } from '@infra/observability';
import type { UnitOfWork } from '@infra/persistence';
import { bounded } from './dead-letter-reason';
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
  /** Who replayed it last (the admin's subject, as their verified token named them). */
  readonly replayedBy: string | null;
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
  replayed_by: string | null;
  envelope: Envelope;
}

/**
 * What a replay came to: the handler took it, the inbox already held it (a delivery after all),
 * it failed again (its reason updated), or its consumer no longer runs in this context.
 */
export type ReplayOutcome = 'processed' | 'already-processed' | 'failed-again' | 'consumer-not-running';

/** The outcomes of replaying every dead letter of a context not yet replayed, counted. */
export type ReplayAllOutcome = Readonly<Record<ReplayOutcome, number>>;

/** At most this many dead letters are listed, or replayed by one "replay all" (oldest first). */
export const DEAD_LETTER_PAGE = 500;

/** A dead letter's id as routes take it: its bigserial, in decimal. */
export const DEAD_LETTER_ID = /^\d{1,18}$/;

/** A context's dead letters: listed for an operator, replayed once the cause is fixed. */
export class DeadLetters {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly consumers: ReadonlyMap<string, InboxConsumer<EventDefinition>>,
  ) {}

  async list(options: { includeReplayed?: boolean } = {}): Promise<DeadLetterView[]> {
    const rows = options.includeReplayed
      ? ((await this.uow.manager.query(
          `SELECT * FROM dead_letters ORDER BY id LIMIT ${DEAD_LETTER_PAGE}`,
        )) as DeadLetterRow[])
      : await this.waiting();
    return rows.map((row) => this.view(row));
  }

  /** The latest `limit` dead letters replayed, newest first: what was replayed, when and by whom. */
  async recentlyReplayed(limit: number): Promise<DeadLetterView[]> {
    const rows = (await this.uow.manager.query(
      'SELECT * FROM dead_letters WHERE replayed_at IS NOT NULL ORDER BY replayed_at DESC, id DESC LIMIT $1',
      [limit],
    )) as DeadLetterRow[];
    return rows.map((row) => this.view(row));
  }

  /** Hands one dead letter to its consumer again, `by` the admin who asked (kept on the row). */
  async replay(id: string, by: string): Promise<ReplayOutcome | 'not-found'> {
    const [row] = (await this.uow.manager.query('SELECT * FROM dead_letters WHERE id = $1', [id])) as DeadLetterRow[];
    return row ? this.replayRow(row, by) : 'not-found';
  }

  /** Replays every dead letter not replayed yet, oldest first (at most {@link DEAD_LETTER_PAGE}). */
  async replayAll(by: string): Promise<ReplayAllOutcome> {
    const rows = await this.waiting();
    const outcomes: Record<ReplayOutcome, number> = {
      processed: 0,
      'already-processed': 0,
      'failed-again': 0,
      'consumer-not-running': 0,
    };
    for (const row of rows) outcomes[await this.replayRow(row, by)] += 1;
    return outcomes;
  }

  /** The dead letters not replayed yet, oldest first (at most {@link DEAD_LETTER_PAGE}). */
  private async waiting(): Promise<DeadLetterRow[]> {
    return (await this.uow.manager.query(
      `SELECT * FROM dead_letters WHERE replayed_at IS NULL ORDER BY id LIMIT ${DEAD_LETTER_PAGE}`,
    )) as DeadLetterRow[];
  }

  private async replayRow(row: DeadLetterRow, by: string): Promise<ReplayOutcome> {
    const consumer = this.consumerOf(row);
    if (!consumer) return 'consumer-not-running';
    try {
      const parsed = consumer.definition.schema.parse(row.envelope.payload);
      // The handling and the mark commit together: a crash between them cannot leave a handled
      // letter waiting. Two replays of one letter meet at the inbox's key: the second waits for
      // the first, then finds it processed. The first to replay it stays named on it.
      return await this.uow.transaction(async (manager) => {
        const processed = await consumer.processOnce({ ...row.envelope, payload: parsed });
        await manager.query(
          'UPDATE dead_letters SET replayed_at = now(), replayed_by = $2 WHERE id = $1 AND replayed_at IS NULL',
          [row.id, by],
        );
        return processed ? 'processed' : 'already-processed';
      });
    } catch (error) {
      await this.uow.manager.query(
        'UPDATE dead_letters SET reason = $2, attempts = attempts + 1, failed_at = now() WHERE id = $1',
        // Bounded as every reason is: a schema's error can quote megabytes of the payload.
        [row.id, bounded(`replay failed: ${error instanceof Error ? error.message : String(error)}`)],
      );
      return 'failed-again';
    }
  }

  /**
   * The consumer of the letter's type and version. A letter of a version its consumer did not
   * read (a producer rolled out ahead of this context) goes to the consumer of that version once
   * one runs, never to a consumer of another version.
   */
  private consumerOf(row: DeadLetterRow): InboxConsumer<EventDefinition> | undefined {
    const named = this.consumers.get(row.consumer);
    if (named?.definition.version === row.version) return named;
    return [...this.consumers.values()].find(
      (consumer) => consumer.definition.type === row.type && consumer.definition.version === row.version,
    );
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
      replayedBy: row.replayed_by,
      // Read by admins, on a page: a card token in a v1 order-created (ADR 0037) or any other
      // secret field is not shown. Replay reads the row, which keeps them.
      envelope: withoutSecrets(row.envelope) as Envelope,
    };
  }
}
