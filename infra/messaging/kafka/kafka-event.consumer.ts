import { Logger } from '@nestjs/common';
import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { EnvelopeSchema, type Envelope } from '@contracts/kernel';
import type { EventDelivery } from '../event-transport';
import { consumerGroupOf, DEFAULT_KAFKA_NAMESPACE, deadLetterTopicOf, eventTopicOf, HEADERS } from './kafka-topics';

export interface KafkaConsumerOptions {
  /** The consuming context: its group is `<namespace>.<context>`. */
  readonly context: string;
  /** Its deliveries (inbox consumers), each for one event key (`type.vN`). */
  readonly deliveries: readonly EventDelivery[];
  /** How many partitions it works on at once (order within a partition is always kept). */
  readonly partitionsConsumedConcurrently?: number;
  readonly namespace?: string;
}

/**
 * One consuming context's Kafka consumer group. Each record is handed to the context's inbox
 * consumer (its inbox transaction, retries and dead-letter table), and its offset is committed
 * only after that: a crash before the commit means a redelivery, which the inbox absorbs. A
 * record that cannot be read, or that the consumer gave up on, also goes to the context's
 * dead-letter topic with the reason in headers, and the partition moves on. Only when the
 * consumer could not even record the outcome (its database is down) is the offset left
 * uncommitted, so the record comes again.
 */
export class KafkaEventConsumer {
  private readonly logger: Logger;
  private readonly consumer: Consumer;
  private readonly deadLetters: Producer;
  private readonly byKey = new Map<string, EventDelivery[]>();
  private readonly namespace: string;

  constructor(
    kafka: Kafka,
    private readonly options: KafkaConsumerOptions,
  ) {
    this.logger = new Logger(`KafkaEventConsumer(${options.context})`);
    this.namespace = options.namespace ?? DEFAULT_KAFKA_NAMESPACE;
    this.consumer = kafka.consumer({
      groupId: consumerGroupOf(options.context, this.namespace),
      allowAutoTopicCreation: false,
      // A member that died without leaving (SIGKILL) holds its partitions until its session
      // times out: 10 s rather than kafkajs's 30 s, so a restarted service resumes sooner.
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    this.deadLetters = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    for (const delivery of options.deliveries) {
      const list = this.byKey.get(delivery.eventKey) ?? [];
      list.push(delivery);
      this.byKey.set(delivery.eventKey, list);
    }
  }

  /** The topics of the producing contexts whose events this context handles. */
  topics(): string[] {
    return [...new Set([...this.byKey.keys()].map((key) => eventTopicOf(key.split('.')[0], this.namespace)))].sort();
  }

  async start(): Promise<void> {
    await this.deadLetters.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics(), fromBeginning: true });
    // A batch at a time per partition, in order: each record goes through the inbox, and the
    // offsets of what was processed are committed once per batch (after the inbox transactions),
    // not once per record: under load a batch holds many, and each commit is a round trip to the
    // broker. A failure that must see the record again (the database down) commits what came
    // before it and rethrows, so the partition resumes at that record.
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        let next: string | undefined;
        try {
          for (const message of batch.messages) {
            if (!isRunning() || isStale()) break;
            await this.handle(batch.topic, message);
            resolveOffset(message.offset);
            next = (BigInt(message.offset) + 1n).toString();
            await heartbeat();
          }
        } finally {
          if (next !== undefined)
            await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.deadLetters.disconnect();
  }

  private async handle(topic: string, message: KafkaMessage): Promise<void> {
    const envelope = this.read(message);
    if (typeof envelope === 'string') {
      await this.deadLetter(topic, message, envelope, 'ficus:unreadable');
      return;
    }
    const deliveries = this.byKey.get(`${envelope.type}.v${envelope.version}`) ?? [];
    for (const delivery of deliveries) {
      const outcome = await delivery.deliver(envelope);
      if (outcome?.outcome === 'dead-lettered') {
        await this.deadLetter(topic, message, outcome.reason, delivery.consumer);
      }
    }
  }

  /** The envelope, or why the record is not one. */
  private read(message: KafkaMessage): Envelope | string {
    if (!message.value) return 'poison: the record has no value';
    let json: unknown;
    try {
      json = JSON.parse(message.value.toString('utf8'));
    } catch {
      return 'poison: the record value is not JSON';
    }
    const parsed = EnvelopeSchema.safeParse(json);
    if (!parsed.success) {
      return (
        `poison: not an envelope: ` + `${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`
      );
    }
    return parsed.data as Envelope;
  }

  private async deadLetter(topic: string, message: KafkaMessage, reason: string, consumer: string): Promise<void> {
    this.logger.warn({ topic, offset: message.offset, reason }, 'record sent to the dead-letter topic');
    const headers: Record<string, string | Buffer> = {};
    for (const [key, value] of Object.entries(message.headers ?? {})) {
      if (typeof value === 'string' || Buffer.isBuffer(value)) headers[key] = value;
    }
    headers[HEADERS.deadLetterReason] = reason;
    headers[HEADERS.deadLetterConsumer] = consumer;
    headers[HEADERS.originalTopic] = topic;
    await this.deadLetters.send({
      topic: deadLetterTopicOf(this.options.context, this.namespace),
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
  }
}
