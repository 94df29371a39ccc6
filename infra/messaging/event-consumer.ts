import { Logger } from '@nestjs/common';
import { ExponentialBackoff, handleAll, retry, type RetryPolicy } from 'cockatiel';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  eventAggregateFieldsOf,
  eventKey,
  type Envelope,
  type EventDefinition,
  type PayloadOf,
} from '@contracts/kernel';
import { eventAge, eventHandlingDuration, inSpan, SpanKind, traceIdsOf, withLogFields } from '@infra/observability';
import type { UnitOfWork } from '@infra/persistence';
import type { DeliveryOutcome, EventDelivery } from './event-transport';
import { bounded, describe, issuesOf } from './dead-letter-reason';
import { isContentFailure, isTransientFailure } from './transient-failure';

export interface IntegrationEventHandler<E extends EventDefinition> {
  /** Runs inside the consumer's inbox transaction: its writes and the inbox row commit together. */
  handle(payload: PayloadOf<E>, envelope: Envelope<PayloadOf<E>>): Promise<void>;
}

export interface ConsumerRetryOptions {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_CONSUMER_RETRY: ConsumerRetryOptions = { maxAttempts: 8, initialDelayMs: 20, maxDelayMs: 2_000 };

/**
 * Effectively-once processing of one event type by one context: the message id goes into the
 * context's inbox in the same transaction as the handler's effects, so a redelivery has no second
 * effect. A failing handler is retried with exponential backoff; a message that still fails, or
 * that does not match its schema (a poison message), goes to the context's dead letters with the
 * reason, and delivery carries on with the next message. A failure that may pass by itself (the
 * database or a provider briefly down, see isTransientFailure) is never dead-lettered: `deliver`
 * throws, and the transport delivers the message again later.
 */
export class InboxConsumer<E extends EventDefinition> implements EventDelivery {
  readonly consumer: string;
  readonly eventKey: string;
  private readonly logger: Logger;
  private readonly policy: RetryPolicy;
  private readonly age: { observe(seconds: number): void };
  /**
   * The handling time's series by outcome: `processed` from the start (shown from zero, as the
   * age is), the others at their first (a consumer that never fails shows no `failed`).
   */
  private readonly handling: { of(outcome: string): { observe(seconds: number): void } };

  constructor(
    readonly context: string,
    readonly definition: E,
    private readonly handler: IntegrationEventHandler<E>,
    private readonly uow: UnitOfWork,
    private readonly retryOptions: ConsumerRetryOptions = DEFAULT_CONSUMER_RETRY,
  ) {
    this.consumer = `${context}:${definition.type}.v${definition.version}`;
    this.eventKey = eventKey(definition);
    this.logger = new Logger(`InboxConsumer(${this.consumer})`);
    this.age = eventAge.series({ consumer: this.consumer });
    this.handling = eventHandlingDuration.seriesBy({ consumer: this.consumer }, 'outcome');
    this.handling.of('processed');
    this.policy = retry(handleAll, {
      maxAttempts: retryOptions.maxAttempts - 1,
      backoff: new ExponentialBackoff({ initialDelay: retryOptions.initialDelayMs, maxDelay: retryOptions.maxDelayMs }),
    });
  }

  /**
   * Handles one delivery, timed as a hop: the event's age when it starts (`ficus_event_age_seconds`)
   * and the handling (`ficus_event_handling_seconds`, by outcome; `failed` when it throws to be
   * delivered again).
   */
  async deliver(envelope: Envelope): Promise<DeliveryOutcome> {
    const started = performance.now();
    const age = Date.now() - Date.parse(envelope.occurredAt);
    if (Number.isFinite(age)) this.age.observe(Math.max(0, age) / 1_000);
    let outcome: DeliveryOutcome['outcome'] | 'failed' = 'failed';
    try {
      const delivered = await this.deliverInSpan(envelope);
      outcome = delivered.outcome;
      return delivered;
    } finally {
      this.handling.of(outcome).observe((performance.now() - started) / 1_000);
    }
  }

  /**
   * In a consumer span, child of the publish span that sent it; the handler sees the envelope
   * with the consumer span's traceparent, so what it causes hangs below.
   */
  private deliverInSpan(envelope: Envelope): Promise<DeliveryOutcome> {
    return inSpan(
      `process ${envelope.type}`,
      {
        kind: SpanKind.CONSUMER,
        parent: envelope.traceparent,
        attributes: { 'ficus.consumer': this.consumer, 'messaging.message.id': envelope.id },
        entry: true,
      },
      async (traceparent, span) => {
        const fields = {
          module: this.context,
          ...eventAggregateFieldsOf(this.definition, envelope),
          ...traceIdsOf(traceparent),
        };
        const delivered = await withLogFields(fields, () => this.deliverOnce({ ...envelope, traceparent }));
        span.setAttribute('ficus.outcome', delivered.outcome);
        if (delivered.outcome === 'dead-lettered')
          span.setStatus({ code: SpanStatusCode.ERROR, message: delivered.reason });
        return delivered;
      },
    );
  }

  private async deliverOnce(envelope: Envelope): Promise<DeliveryOutcome> {
    const parsed = this.definition.schema.safeParse(envelope.payload);
    if (envelope.version !== this.definition.version || !parsed.success) {
      const reason =
        envelope.version !== this.definition.version
          ? `poison: version ${envelope.version} is not the v${this.definition.version} this consumer reads`
          : `poison: payload does not match ${this.eventKey}: ${issuesOf(parsed.error?.issues ?? [])}`;
      await this.deadLetter(envelope, reason, 1);
      return { outcome: 'dead-lettered', reason };
    }
    let attempts = 0;
    try {
      const processed = await this.policy.execute(() => {
        attempts += 1;
        return this.processOnce({ ...envelope, payload: parsed.data } as Envelope<PayloadOf<E>>);
      });
      return { outcome: processed ? 'processed' : 'duplicate' };
    } catch (error) {
      if (isTransientFailure(error)) {
        this.logger.warn({ messageId: envelope.id, err: error }, 'transient failure; the message will come again');
        throw error;
      }
      const reason = `failed after ${attempts} attempts: ${describe(error)}`;
      await this.deadLetter(envelope, reason, attempts);
      return { outcome: 'dead-lettered', reason };
    }
  }

  /** One attempt: false when the inbox already held the message (a duplicate delivery). */
  async processOnce(envelope: Envelope<PayloadOf<E>>): Promise<boolean> {
    return this.uow.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        'INSERT INTO inbox (message_id, consumer) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1',
        [envelope.id, this.consumer],
      );
      if (inserted.length === 0) {
        return false;
      }
      await this.handler.handle(envelope.payload, envelope);
      return true;
    });
  }

  /**
   * Keeps the message in the context's dead letters. What it holds must not make that fail (the
   * transport would deliver it again and again, and over Kafka hold up its partition): an
   * envelope PostgreSQL will not store (text or nesting it refuses, nesting JSON cannot print) is
   * kept as its ids and type without the payload, and says so; such a letter cannot be replayed
   * from here, and over Kafka the record itself is on the dead-letter topic.
   */
  private async deadLetter(envelope: Envelope, reason: string, attempts: number): Promise<void> {
    const why = bounded(reason);
    this.logger.warn({ messageId: envelope.id, type: envelope.type, reason: why }, 'message moved to dead letters');
    const insert = (json: string, because: string) =>
      this.uow.manager.query(
        `INSERT INTO dead_letters (message_id, consumer, type, version, envelope, reason, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (message_id, consumer)
         DO UPDATE SET reason = EXCLUDED.reason, attempts = dead_letters.attempts + EXCLUDED.attempts,
                       failed_at = now(), replayed_at = NULL, replayed_by = NULL`,
        [envelope.id, this.consumer, envelope.type, envelope.version, json, because, attempts],
      );
    let json: string | undefined;
    try {
      json = JSON.stringify(envelope);
    } catch {
      json = undefined; // nested deeper than JSON.stringify goes
    }
    try {
      if (json !== undefined) return void (await insert(json, why));
    } catch (error) {
      if (!isContentFailure(error)) throw error;
    }
    const ids = { id: envelope.id, type: envelope.type, version: envelope.version, occurredAt: envelope.occurredAt };
    const standIn = { ...ids, aggregateId: envelope.aggregateId, correlationId: envelope.correlationId, payload: null };
    await insert(JSON.stringify(standIn), bounded(`${reason} (its payload could not be stored, so it was not kept)`));
  }
}
