import { Logger } from '@nestjs/common';
import type { Kafka, Message, Producer } from 'kafkajs';
import type { Envelope } from '@contracts/kernel';
import type { EventPublisher } from '../event-transport';
import { DEFAULT_KAFKA_NAMESPACE, eventTopicOf, HEADERS } from './kafka-topics';

export function kafkaMessageOf(envelope: Envelope): Message {
  const headers: Record<string, string> = {
    [HEADERS.messageId]: envelope.id,
    [HEADERS.type]: envelope.type,
    [HEADERS.version]: String(envelope.version),
    [HEADERS.correlationId]: envelope.correlationId,
  };
  if (envelope.causationId) headers[HEADERS.causationId] = envelope.causationId;
  if (envelope.traceparent) headers[HEADERS.traceparent] = envelope.traceparent;
  return { key: envelope.aggregateId, value: JSON.stringify(envelope), headers };
}

/**
 * Hands a relay's batch to Kafka: one topic per producing context, the aggregate id as key (so
 * one aggregate's events keep their order in one partition), acks from all in-sync replicas and
 * an idempotent producer (a retried send is written once). Resolves only when Kafka took every
 * record, so the relay marks rows sent only then.
 */
export class KafkaEventPublisher implements EventPublisher {
  readonly kind = 'kafka';
  private readonly logger = new Logger('KafkaEventPublisher');
  private readonly producer: Producer;
  private connected?: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly namespace = DEFAULT_KAFKA_NAMESPACE,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    await this.connect();
    const byTopic = new Map<string, Message[]>();
    for (const envelope of envelopes) {
      const topic = eventTopicOf(envelope.type.split('.')[0], this.namespace);
      const list = byTopic.get(topic) ?? [];
      list.push(kafkaMessageOf(envelope));
      byTopic.set(topic, list);
    }
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  async close(): Promise<void> {
    if (this.connected) {
      await this.producer.disconnect().catch((error: unknown) => this.logger.warn({ err: error }, 'disconnect failed'));
      this.connected = undefined;
    }
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    });
    return this.connected;
  }
}
