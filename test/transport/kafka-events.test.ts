import { randomBytes, randomUUID } from 'node:crypto';
import { StockReserved } from '@contracts/inventory';
import { OrderCreatedV2 } from '@contracts/ordering';
import { PaymentsContract } from '@contracts/payments';
import {
  consumerGroupOf,
  ensureTopics,
  eventTopicOf,
  HEADERS,
  KafkaEventConsumer,
  KafkaEventPublisher,
  kafkaMessageOf,
} from '@infra/messaging/kafka';
import { eventually } from '../support/eventually';
import { asAdminUser, asCustomer, type ModuleUnderTest } from '../support/module-harness';
import {
  orderCreatedV1,
  orderPayload,
  readDeadLetters,
  startPaymentsOverKafka,
  testKafka,
  type PaymentsOverKafka,
} from '../support/payments-over-kafka';
import { asAdmin } from '../support/test-database';

/**
 * Payments consuming over Kafka: the ficus publisher and consumer on a real broker, the inbox on
 * real PostgreSQL. Order of one aggregate kept, offsets committed after the inbox transaction,
 * a poison record to the dead-letter topic with its reason, and the partition keeps going.
 */
describe('events over Kafka', () => {
  const namespace = `kt${randomBytes(4).toString('hex')}`;
  const kafka = testKafka(namespace);
  let payments: ModuleUnderTest;
  let publisher: KafkaEventPublisher;
  let subject: PaymentsOverKafka | undefined;

  beforeAll(async () => {
    subject = await startPaymentsOverKafka('kafka_events', kafka, namespace, {
      contexts: ['ordering', 'inventory', 'payments', 'notifications', 'shipping'],
      partitions: 3,
    });
    ({ payments, publisher } = subject);
  }, 60_000);
  afterAll(() => subject?.close());

  /** order-created as ordering publishes it: naming the payment method payments holds for the customer's card. */
  const order = async (orderId: string) => {
    const customerId = randomUUID();
    const { paymentMethodId } = await payments
      .client(PaymentsContract)
      .holdPaymentMethod(asCustomer(customerId), { token: 'tok_visa' });
    return OrderCreatedV2.create({ ...orderPayload(orderId, customerId), paymentMethodId }, { correlationId: orderId });
  };
  const orderV1 = orderCreatedV1;

  it('subscribes the topics of the contexts whose events it handles', () => {
    expect(subject!.consumer.topics()).toEqual([
      eventTopicOf('inventory', namespace),
      eventTopicOf('ordering', namespace),
    ]);
  });

  it('processes events published by the relay publisher, and commits after the inbox', async () => {
    const orderId = randomUUID();
    await publisher.publish([await order(orderId)]);
    await publisher.publish([
      StockReserved.create({ orderId, items: [{ sku: 'SOIL-MIX', quantity: 1 }] }, { correlationId: orderId }),
    ]);
    const payment = await eventually(() => payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId }), {
      until: (p) => p.status === 'COMPLETED',
    });
    expect(payment.amount).toEqual({ amountMinor: 750, currency: 'EUR' });

    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = await eventually(
        async () =>
          admin.fetchOffsets({
            groupId: consumerGroupOf('payments', namespace),
            topics: [eventTopicOf('inventory', namespace)],
          }),
        { until: (offsets) => offsets[0].partitions.some((p) => Number(p.offset) > 0) },
      );
      expect(committed[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)).toBeGreaterThanOrEqual(
        1,
      );
    } finally {
      await admin.disconnect();
    }
  });

  it('commits handled offsets together once a while, at once after a dead letter, and the rest when it stops (twice over), a record in hand included', async () => {
    // A namespace of its own: a fresh topic and group, holding only this test's records.
    const own = `${namespace}c`;
    await ensureTopics(kafka, {
      contexts: ['inventory', 'payments'],
      partitionsOf: () => 3,
      replicationFactor: 1,
      namespace: own,
    });
    const seen: string[] = [];
    /** The record whose handling waits for the test (it stops the consumer meanwhile). */
    let held: { id: string; release: () => void } | undefined;
    const later = new KafkaEventConsumer(kafka, {
      context: 'payments',
      namespace: own,
      commitEveryMs: 60_000, // no commit falls due within the test
      deliveries: [
        {
          consumer: 'payments:inventory.stock-reserved.v1',
          eventKey: 'inventory.stock-reserved.v1',
          deliver: async (envelope) => {
            seen.push(envelope.id);
            if (envelope.id === held?.id) await new Promise<void>((resolve) => (held!.release = resolve));
            return { outcome: 'processed' };
          },
        },
      ],
    });
    const ownPublisher = new KafkaEventPublisher(kafka, own);
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () =>
      (
        await admin.fetchOffsets({
          groupId: consumerGroupOf('payments', own),
          topics: [eventTopicOf('inventory', own)],
        })
      )[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    const reserved = () => {
      const orderId = randomUUID();
      return StockReserved.create({ orderId, items: [{ sku: 'SOIL-MIX', quantity: 1 }] }, { correlationId: orderId });
    };
    await later.start();
    let stopped = false;
    try {
      // one publish each: batches of their own (each used to be a commit of its own)
      for (let i = 0; i < 5; i++) await ownPublisher.publish([reserved()]);
      await eventually(() => seen, { until: (handled) => handled.length === 5, timeoutMs: 20_000 });
      expect(await committed()).toBe(0);

      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: eventTopicOf('inventory', own), messages: [{ key: 'x', value: 'not json' }] });
      await producer.disconnect();
      await eventually(committed, { until: (offsets) => offsets === 6, what: 'the dead letter commits at once' });

      // Stopped while a record is in hand (and nothing else left to commit): the stop waits for
      // the record, then commits it. Stopped twice over: both calls return.
      const last = reserved();
      held = { id: last.id, release: () => undefined };
      await ownPublisher.publish([last]);
      await eventually(() => seen, { until: (handled) => handled.includes(last.id), timeoutMs: 20_000 });
      stopped = true;
      const stopping = Promise.all([later.stop(), later.stop()]);
      // Released once stop() has gone as far as it can without the record: by then, before this
      // change, kafkajs had marked itself stopping, and dropped the record's commit.
      await new Promise((resolve) => setImmediate(resolve));
      held.release();
      await stopping;
      expect(await committed()).toBe(7);
    } finally {
      if (!stopped) await later.stop();
      await ownPublisher.close();
      await admin.disconnect();
    }
  }, 60_000);

  /** A consumer of stock-reserved in a namespace of its own (a fresh topic and group), and what it has committed. */
  const ownConsumer = async (
    suffix: string,
    deliver: (envelope: { id: string }) => Promise<void>,
    options: { sessionTimeoutMs?: number; longRecordMs?: number } = {},
  ) => {
    const own = `${namespace}${suffix}`;
    await ensureTopics(kafka, {
      contexts: ['inventory', 'payments'],
      partitionsOf: () => 1,
      replicationFactor: 1,
      namespace: own,
    });
    const consumer = new KafkaEventConsumer(kafka, {
      context: 'payments',
      namespace: own,
      commitEveryMs: 60_000, // no commit falls due within the test
      ...options,
      deliveries: [
        {
          consumer: 'payments:inventory.stock-reserved.v1',
          eventKey: 'inventory.stock-reserved.v1',
          deliver: async (envelope) => {
            await deliver(envelope);
            return { outcome: 'processed' };
          },
        },
      ],
    });
    const admin = kafka.admin();
    await admin.connect();
    const committed = async () =>
      Number(
        (
          await admin.fetchOffsets({
            groupId: consumerGroupOf('payments', own),
            topics: [eventTopicOf('inventory', own)],
          })
        )[0].partitions[0].offset,
      );
    const producer = kafka.producer();
    await producer.connect();
    return {
      consumer,
      committed,
      /** The records as one request: one batch for the consumer. */
      send: (...messages: Array<{ key: string; value: string; headers?: Record<string, string> }>) =>
        producer.send({ topic: eventTopicOf('inventory', own), messages }),
      close: async () => {
        await consumer.stop();
        await producer.disconnect();
        await admin.disconnect();
      },
    };
  };
  const stockReserved = (orderId = randomUUID()) =>
    StockReserved.create({ orderId, items: [{ sku: 'SOIL-MIX', quantity: 1 }] }, { correlationId: orderId });

  it('commits a dead letter before it goes on to the record after it in the same batch', async () => {
    let release: () => void = () => undefined;
    const inHand: string[] = [];
    const held = stockReserved();
    const subject = await ownConsumer('d', async (envelope) => {
      inHand.push(envelope.id);
      if (envelope.id === held.id) await new Promise<void>((resolve) => (release = resolve));
    });
    try {
      await subject.consumer.start();
      await subject.send({ key: 'x', value: 'not json' }, kafkaMessageOf(held) as { key: string; value: string });
      await eventually(() => inHand, { until: (ids) => ids.includes(held.id), timeoutMs: 20_000 });
      // The record after it is still in hand, and the dead letter's offset is committed already:
      // a crash now would not send it to the dead-letter topic again.
      expect(await subject.committed()).toBe(1);
      release();
    } finally {
      release();
      await subject.close();
    }
  }, 60_000);

  it('keeps its partitions while one record takes longer than its session: it says it is alive meanwhile', async () => {
    // The broker's shortest session (6 s), and a record handled for 8 s: without heartbeats while it
    // is handled, the broker takes the partition away mid-record, and the record comes again.
    const orderId = randomUUID();
    const [slow, after] = [stockReserved(orderId), stockReserved(orderId)];
    const handled: string[] = [];
    const subject = await ownConsumer(
      's',
      async (envelope) => {
        handled.push(envelope.id);
        if (envelope.id === slow.id) await new Promise((resolve) => setTimeout(resolve, 8_000));
      },
      { sessionTimeoutMs: 6_000, longRecordMs: 2_000 },
    );
    try {
      await subject.consumer.start();
      await subject.send(kafkaMessageOf(slow) as { key: string; value: string });
      await eventually(() => handled, { until: (ids) => ids.includes(slow.id), timeoutMs: 20_000 });
      // Past `longRecordMs` it says so, and is still up: the record is being handled, not lost.
      const long = await eventually(() => subject.consumer.health(), {
        until: (health) => health.detail.includes('in hand'),
        timeoutMs: 7_000,
      });
      expect(long.up).toBe(true);
      expect(long.detail).toMatch(/; one record in hand for \d+ s: .+\[0\] offset 0$/);
      await subject.send(kafkaMessageOf(after) as { key: string; value: string });
      await eventually(() => handled, { until: (ids) => ids.includes(after.id), timeoutMs: 30_000 });
      // One partition, in order: had the slow record come again, it would be here before the next.
      expect(handled).toEqual([slow.id, after.id]);
      expect(subject.consumer.health().detail).toMatch(/^up \(group [^)]+\)$/);
    } finally {
      await subject.close();
    }
  }, 60_000);

  it('sends a poison record to the dead-letter topic with its reason, and keeps consuming', async () => {
    const { letters: dead, stop: stopReading } = await readDeadLetters(kafka, namespace, 'payments', 'dlq-reader');
    try {
      const producer = kafka.producer();
      await producer.connect();
      const orderId = randomUUID();
      // the same key as the good record after it: same partition, so "keeps going" is proven
      await producer.send({
        topic: eventTopicOf('ordering', namespace),
        messages: [{ key: orderId, value: '{"not": "an envelope"' }],
      });
      await producer.disconnect();
      await publisher.publish([await order(orderId)]);

      const letter = await eventually(() => dead, { until: (d) => d.length > 0, timeoutMs: 20_000 });
      expect(letter[0].headers?.[HEADERS.deadLetterReason]?.toString()).toBe('poison: the record value is not JSON');
      expect(letter[0].headers?.[HEADERS.originalTopic]?.toString()).toBe(eventTopicOf('ordering', namespace));
      await eventually(() => payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId }), {
        until: (p) => p.status === 'PENDING',
        what: 'the record after the poison one is processed',
      });
    } finally {
      await stopReading();
    }
  });

  it('sends a record its consumer gave up on to the dead-letter topic, and keeps consuming', async () => {
    const { letters: dead, stop: stopReading } = await readDeadLetters(
      kafka,
      namespace,
      'notifications',
      'dlq-reader-2',
    );
    // A consumer whose inbox gives up on every record (as an inbox consumer does after its retries).
    const seen: string[] = [];
    const givingUp = new KafkaEventConsumer(kafka, {
      context: 'notifications',
      namespace,
      deliveries: [
        {
          consumer: 'notifications:ordering.order-created.v1',
          eventKey: 'ordering.order-created.v1',
          deliver: async (envelope) => {
            seen.push(envelope.id);
            return { outcome: 'dead-lettered', reason: 'failed after 8 attempts: Error: boom' };
          },
        },
      ],
    });
    await givingUp.start();
    try {
      const first = orderV1(randomUUID());
      const second = orderV1(randomUUID());
      await publisher.publish([first, second]);
      const letters = await eventually(
        () => dead.filter((m) => [first.id, second.id].includes(m.headers?.[HEADERS.messageId]?.toString() ?? '')),
        {
          until: (d) => d.length === 2,
          timeoutMs: 20_000,
        },
      );
      expect(letters[0].headers?.[HEADERS.deadLetterReason]?.toString()).toBe('failed after 8 attempts: Error: boom');
      expect(letters[0].headers?.[HEADERS.deadLetterConsumer]?.toString()).toBe(
        'notifications:ordering.order-created.v1',
      );
      expect(seen).toEqual(expect.arrayContaining([first.id, second.id]));
    } finally {
      await givingUp.stop();
      await stopReading();
    }
  });

  it('starts a new consumer when kafkajs gives up on one, reports it down meanwhile, and the record comes again', async () => {
    // kafkajs leaves a consumer stopped for good after an error it does not count as retriable (a
    // broker coming back can answer so). Planted here: the first delivery of this event throws one.
    // (The topic also holds the earlier tests' records, which this new group reads from the start.)
    const event = orderV1(randomUUID());
    const attempts: string[] = [];
    const restarted = new KafkaEventConsumer(kafka, {
      context: 'shipping',
      namespace,
      deliveries: [
        {
          consumer: 'shipping:ordering.order-created.v1',
          eventKey: 'ordering.order-created.v1',
          deliver: async (envelope) => {
            if (envelope.id !== event.id) return { outcome: 'processed' };
            attempts.push(envelope.id);
            if (attempts.length === 1) throw Object.assign(new Error('planted: not retriable'), { retriable: false });
            return { outcome: 'processed' };
          },
        },
      ],
    });
    await restarted.start();
    try {
      expect(restarted.health()).toEqual({ up: true, detail: `up (group ${consumerGroupOf('shipping', namespace)})` });
      await publisher.publish([event]);
      const down = await eventually(() => restarted.health(), { until: (health) => !health.up, timeoutMs: 20_000 });
      expect(down.detail).toMatch(/^stopped by kafkajs after KafkaJSNonRetriableError: planted: not retriable/);
      await eventually(() => restarted.health(), { until: (health) => health.up, timeoutMs: 30_000 });
      // the same record again: its offset was never committed
      await eventually(() => attempts, { until: (seen) => seen.length === 2, timeoutMs: 20_000 });
      expect(attempts).toEqual([event.id, event.id]);
    } finally {
      await restarted.stop();
    }
  }, 60_000);

  it('v1 and v2 of one event side by side: each consumer gets the version it reads, and nothing is dead-lettered', async () => {
    // The rollout of a breaking change: v1 records still on the topic beside v2 (ADR 0037).
    const seen: Array<{ consumer: string; version: number; orderId: string }> = [];
    const reading = (version: number) => ({
      consumer: `inventory:ordering.order-created.v${version}`,
      eventKey: `ordering.order-created.v${version}`,
      deliver: async (envelope: { version: number; payload: unknown }) => {
        seen.push({
          consumer: `v${version} reader`,
          version: envelope.version,
          orderId: (envelope.payload as { orderId: string }).orderId,
        });
        return { outcome: 'processed' as const };
      },
    });
    const both = new KafkaEventConsumer(kafka, {
      context: 'inventory',
      namespace,
      deliveries: [reading(1), reading(2)],
    });
    await both.start();
    try {
      const orderId = randomUUID();
      const v1 = orderV1(orderId);
      const v2 = OrderCreatedV2.create(
        { ...orderPayload(orderId, randomUUID()), paymentMethodId: randomUUID() },
        { correlationId: orderId },
      );
      await publisher.publish([v1, v2]);
      await eventually(() => seen.filter((s) => s.orderId === orderId), {
        until: (found) => found.length === 2,
        timeoutMs: 20_000,
      });
      expect(seen.filter((s) => s.orderId === orderId).sort((a, b) => a.version - b.version)).toEqual([
        { consumer: 'v1 reader', version: 1, orderId },
        { consumer: 'v2 reader', version: 2, orderId },
      ]);
      // Payments reads both versions: it processed each (its inbox has both) and took neither for poison.
      await eventually(() => payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId }));
      const processed = await eventually(
        () =>
          asAdmin<{ consumer: string }>(
            payments.database,
            'SELECT consumer FROM payments.inbox WHERE message_id = ANY($1) ORDER BY consumer',
            [[v1.id, v2.id]],
          ),
        { until: (rows) => rows.length === 2 },
      );
      expect(processed.map((row) => row.consumer)).toEqual([
        'payments:ordering.order-created.v1',
        'payments:ordering.order-created.v2',
      ]);
      const letters = (await payments.registry.get('payments')!.deadLetters.list()).map((letter) => letter.messageId);
      expect(letters).not.toContain(v1.id);
      expect(letters).not.toContain(v2.id);
    } finally {
      await both.stop();
    }
  });
});
