import { createHook } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { commaSeparated } from '@infra/config';
import { createTopicWithLeaders } from '../support/kafka-topics';

/**
 * A connected kafkajs client with nothing to do arms no timers in a loop (patches/README.md: the
 * request queue's 0 ms re-arm, tulios/kafkajs#1556). An idle process of the split shop keeps a
 * producer and a consumer connected; unpatched, each connection re-armed a timer about every
 * millisecond for as long as the process lived.
 */
const brokers = commaSeparated(process.env.KAFKA_BROKERS || '127.0.0.1:9092');

it('a connected, idle producer and consumer arm only a handful of timers a second', async () => {
  const kafka = new Kafka({
    clientId: 'ficus-idle-client',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
  });
  const topic = `ficus-idle-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `${topic}-group`, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  try {
    await admin.connect();
    await createTopicWithLeaders(admin, topic, 1);
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: 'one' }] });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let consumed = 0;
    await consumer.run({ eachMessage: async () => void (consumed += 1) });
    const settle = Date.now();
    while (consumed === 0 && Date.now() - settle < 30_000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(consumed).toBe(1);

    // Now everything is idle: the consumer long-polls, the producer waits for work.
    let timers = 0;
    const hook = createHook({
      init: (_id, type) => {
        if (type === 'Timeout') timers += 1;
      },
    }).enable();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    hook.disable();
    // Heartbeats (1 s), the long poll's wait, a request-timeout check a second per connection:
    // a few dozen at most. Unpatched: thousands.
    expect(timers).toBeLessThan(100);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
});
