import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { OrderCreated } from '@contracts/ordering';
import {
  deadLetterTopicOf,
  ensureTopics,
  KafkaEventConsumer,
  KafkaEventPublisher,
  kafkaSocketFactory,
} from '@infra/messaging/kafka';
import { PaymentsModule } from '@modules/payments';
import { startModule, type ModuleUnderTest } from './module-harness';
import { KAFKA_BROKERS } from './topology-shop';

/** A Kafka client of a test's own namespace, connected as the shop's processes are (Nagle's algorithm off). */
export function testKafka(namespace: string): Kafka {
  return new Kafka({
    clientId: namespace,
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    socketFactory: kafkaSocketFactory,
  });
}

export interface PaymentsOverKafka {
  readonly payments: ModuleUnderTest;
  readonly consumer: KafkaEventConsumer;
  readonly publisher: KafkaEventPublisher;
  close(): Promise<void>;
}

/**
 * Payments consuming over a real broker in `namespace`: the topics of `contexts` made, the module
 * on real PostgreSQL with quick retries (two attempts), its Kafka consumer running, and a ficus
 * publisher to send events with.
 */
export async function startPaymentsOverKafka(
  label: string,
  kafka: Kafka,
  namespace: string,
  topics: { contexts: readonly string[]; partitions: number },
): Promise<PaymentsOverKafka> {
  await ensureTopics(kafka, {
    contexts: [...topics.contexts],
    partitionsOf: () => topics.partitions,
    replicationFactor: 1,
    namespace,
  }).catch((error: unknown) => {
    throw new Error(
      `no Kafka broker answers at ${KAFKA_BROKERS.join(',')}: run npm run kafka:start first (${String(error)})`,
    );
  });
  const payments = await startModule(label, PaymentsModule, [], {
    consumerRetry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 10 },
  });
  const runtime = payments.registry.get('payments')!;
  const consumer = new KafkaEventConsumer(kafka, {
    context: 'payments',
    deliveries: runtime.inboxConsumers(),
    namespace,
  });
  await consumer.start();
  const publisher = new KafkaEventPublisher(kafka, namespace);
  return {
    payments,
    consumer,
    publisher,
    close: async () => {
      await consumer.stop();
      await publisher.close();
      await payments.close();
    },
  };
}

/** What a context's dead-letter topic holds, read from its start by a group of its own until `stop`. */
export async function readDeadLetters(
  kafka: Kafka,
  namespace: string,
  context: string,
  group: string,
): Promise<{ letters: KafkaMessage[]; stop(): Promise<void> }> {
  const letters: KafkaMessage[] = [];
  const reader = kafka.consumer({ groupId: `${namespace}-${group}`, maxWaitTimeInMs: 300 });
  await reader.connect();
  await reader.subscribe({ topic: deadLetterTopicOf(context, namespace), fromBeginning: true });
  await reader.run({ eachMessage: async ({ message }) => void letters.push(message) });
  return { letters, stop: () => reader.disconnect() };
}

/** An order's lines and total as order-created carries them: one bag of soil, 7.50 EUR. */
export function orderPayload(orderId: string, customerId: string) {
  return {
    orderId,
    customerId,
    items: [{ sku: 'SOIL-MIX', quantity: 1, unitPrice: { amountMinor: 750, currency: 'EUR' } }],
    total: { amountMinor: 750, currency: 'EUR' },
  };
}

/** order-created v1, with the card token in it, as a topic may still hold from before v2. */
export function orderCreatedV1(orderId: string) {
  return OrderCreated.create(
    { ...orderPayload(orderId, randomUUID()), paymentToken: 'tok_visa' },
    { correlationId: orderId },
  );
}
