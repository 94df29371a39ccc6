import { randomBytes, randomUUID } from 'node:crypto';
import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { PaymentsContract } from '@contracts/payments';
import {
  deadLetterTopicOf,
  eventTopicOf,
  HEADERS,
  KafkaEventConsumer,
  type KafkaEventPublisher,
} from '@infra/messaging/kafka';
import { eventually } from '../support/eventually';
import { asAdminUser, type ModuleUnderTest } from '../support/module-harness';
import {
  orderCreatedV1,
  readDeadLetters,
  startPaymentsOverKafka,
  testKafka,
  type PaymentsOverKafka,
} from '../support/payments-over-kafka';
import { asAdmin } from '../support/test-database';

/**
 * Whatever a record holds, a consumer records it as a dead letter and goes on with the records
 * behind it: what it holds must never make the dead letter itself fail (a partition would wait
 * behind that record for ever). Each case sends a bad record, then a good one of the same
 * aggregate (the same partition), and waits for the good one to be handled.
 */
describe('poison records over Kafka: each is a dead letter, and the partition moves on', () => {
  const namespace = `kp${randomBytes(4).toString('hex')}`;
  const kafka = testKafka(namespace);
  let payments: ModuleUnderTest;
  let publisher: KafkaEventPublisher;
  let subject: PaymentsOverKafka | undefined;
  let producer: Producer;
  let dead: KafkaMessage[] = [];
  let stopReading: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    subject = await startPaymentsOverKafka('kafka_poison', kafka, namespace, {
      contexts: ['ordering', 'inventory', 'payments', 'shipping'],
      partitions: 2,
    });
    ({ payments, publisher } = subject);
    producer = kafka.producer();
    await producer.connect();
    ({ letters: dead, stop: stopReading } = await readDeadLetters(kafka, namespace, 'payments', 'dlq-reader'));
  }, 60_000);
  afterAll(async () => {
    await stopReading?.();
    await producer?.disconnect();
    await subject?.close();
  });

  /** order-created v1 as ordering publishes it (a card token in it: payments reads v1 too). */
  const goodOrder = orderCreatedV1;
  const header = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();
  const letterOf = (offsetKey: string) =>
    eventually(() => dead.find((message) => message.key?.toString() === offsetKey), {
      until: (found) => found !== undefined,
      timeoutMs: 20_000,
      what: 'the dead letter',
    }) as Promise<KafkaMessage>;

  /** Sends `value` on `topic` keyed by a fresh order id, then a good order of that id; waits for the good one. */
  async function poisonThenGood(
    value: string | Buffer,
    options: { topic?: string; headers?: IHeaders } = {},
  ): Promise<{ letter: KafkaMessage; orderId: string }> {
    const orderId = randomUUID();
    await producer.send({
      topic: options.topic ?? eventTopicOf('ordering', namespace),
      messages: [{ key: orderId, value, headers: options.headers }],
    });
    await publisher.publish([goodOrder(orderId)]);
    await eventually(() => payments.client(PaymentsContract).getPayment(asAdminUser(), { orderId }), {
      until: (payment) => payment.status === 'PENDING',
      what: 'the good record behind the poison one is handled',
      timeoutMs: 20_000,
    });
    return { letter: await letterOf(orderId), orderId };
  }

  const envelopeOf = (orderId: string, changes: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...goodOrder(orderId),
    ...changes,
  });

  it('a record of another context on this topic (forged or misrouted): poison, never handled', async () => {
    // inventory's topic carries only inventory's events: ordering's order-created there is forged
    // (a service that may write only its own topic, passing for another context)
    const forged = envelopeOf(randomUUID());
    const { letter } = await poisonThenGood(JSON.stringify(forged), { topic: eventTopicOf('inventory', namespace) });
    expect(header(letter, HEADERS.deadLetterReason)).toBe(
      `poison: ordering.order-created is not an event of ${eventTopicOf('inventory', namespace)}`,
    );
    const handled = await asAdmin(payments.database, 'SELECT 1 FROM payments.inbox WHERE message_id = $1', [forged.id]);
    expect(handled).toEqual([]);
    // ordering's events on ordering's topic, but its headers say another type or message
    const disguised = envelopeOf(randomUUID());
    const second = await poisonThenGood(JSON.stringify(disguised), {
      headers: { [HEADERS.type]: 'ordering.order-confirmed', [HEADERS.messageId]: String(disguised.id) },
    });
    expect(header(second.letter, HEADERS.deadLetterReason)).toBe(
      `poison: its ${HEADERS.type} header says otherwise than its body`,
    );
    const stored = await asAdmin(payments.database, 'SELECT 1 FROM payments.inbox WHERE message_id = $1', [
      disguised.id,
    ]);
    expect(stored).toEqual([]);
  });

  it('text PostgreSQL cannot store (a NUL, an unpaired surrogate), in the payload or the envelope', async () => {
    for (const [field, bad] of [
      ['payload', { ...goodOrder(randomUUID()).payload, customerId: 'a\u0000b' }],
      ['correlationId', 'corr\u0000elation'],
      ['payload', { ...goodOrder(randomUUID()).payload, note: '\ud800' }],
    ] as const) {
      const orderId = randomUUID();
      const { letter } = await poisonThenGood(JSON.stringify(envelopeOf(orderId, { [field]: bad })));
      expect(header(letter, HEADERS.deadLetterReason)).toMatch(
        /^poison: record\.\S+ holds a NUL or an unpaired surrogate$/,
      );
    }
  });

  it('a version of an event no consumer of this context reads yet: a dead letter to replay later, not dropped', async () => {
    const orderId = randomUUID();
    const ahead = envelopeOf(orderId, { version: 9 });
    const { letter } = await poisonThenGood(JSON.stringify(ahead));
    expect(header(letter, HEADERS.deadLetterReason)).toMatch(/^poison: version 9 is not the v\d this consumer reads$/);
    const deadLetters = payments.registry.get('payments')!.deadLetters;
    const kept = (await deadLetters.list()).find((row) => row.messageId === ahead.id)!;
    expect(kept).toMatchObject({ type: 'ordering.order-created', version: 9 });
    // Shown to admins without the card token a v1 payload carries; the row keeps it for replay.
    expect((kept.envelope.payload as { paymentToken: string }).paymentToken).toBe('[redacted]');
    const [row] = await asAdmin<{ token: string }>(
      payments.database,
      "SELECT envelope->'payload'->>'paymentToken' AS token FROM payments.dead_letters WHERE message_id = $1",
      [ahead.id],
    );
    expect(row.token).toBe('tok_visa');
    // Replayed once a consumer of v9 runs; until then, to no consumer of another version.
    expect(await deadLetters.replay(kept.id, 'an-admin')).toBe('consumer-not-running');
  });

  it('a payload with thousands of schema issues: the reason is bounded, the letter sent', async () => {
    const orderId = randomUUID();
    const items = Array.from({ length: 5_000 }, () => ({}));
    const { letter } = await poisonThenGood(JSON.stringify(envelopeOf(orderId, { payload: { orderId, items } })));
    const reason = header(letter, HEADERS.deadLetterReason)!;
    expect(reason).toMatch(/^poison: payload does not match ordering\.order-created\.v1: /);
    expect(reason).toMatch(/more characters\)$|and \d+ more$/);
    expect(reason.length).toBeLessThan(1_100);
  });

  it('a payload nested deeper than JSON.stringify goes: kept without it, and says so', async () => {
    const orderId = randomUUID();
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const value = JSON.stringify(envelopeOf(orderId, { payload: null })).replace('"payload":null', `"payload":${deep}`);
    const { letter } = await poisonThenGood(value);
    expect(header(letter, HEADERS.deadLetterReason)).toMatch(/^poison: payload does not match/);
    const [row] = await asAdmin<{ reason: string; envelope: { payload: unknown; id: string } }>(
      payments.database,
      'SELECT reason, envelope FROM payments.dead_letters WHERE envelope->>$1 = $2',
      ['aggregateId', orderId],
    );
    expect(row.reason).toMatch(/its payload could not be stored, so it was not kept\)$/);
    expect(row.envelope.payload).toBeNull();
  });

  it('a delivery that fails on what the record holds, even to record it: dead-lettered once, the partition on; a failure not recognised: the record comes again', async () => {
    const bad = goodOrder(randomUUID());
    const after = goodOrder(bad.payload.orderId); // the same aggregate: the same partition, behind it
    const odd = goodOrder(bad.payload.orderId);
    const seen: string[] = [];
    const shipping = new KafkaEventConsumer(kafka, {
      context: 'shipping',
      namespace,
      deliveries: [
        {
          consumer: 'shipping:ordering.order-created.v1',
          eventKey: 'ordering.order-created.v1',
          deliver: async (envelope) => {
            seen.push(envelope.id);
            if (envelope.id === bad.id) {
              // as PostgreSQL refuses a dead letter's envelope nested past its limit
              throw Object.assign(new Error('stack depth limit exceeded'), { code: '54001' });
            }
            if (envelope.id === odd.id && seen.filter((id) => id === odd.id).length === 1) {
              throw new TypeError('planted: not recognised, once');
            }
            return { outcome: 'processed' };
          },
        },
      ],
    });
    const { letters: shippingDead, stop: stopShippingReader } = await readDeadLetters(
      kafka,
      namespace,
      'shipping',
      'dlq-shipping',
    );
    await shipping.start();
    try {
      await publisher.publish([bad, after, odd]);
      await eventually(() => seen, {
        until: (ids) => ids.includes(after.id) && ids.filter((id) => id === odd.id).length === 2,
        what: 'the records behind it, the one not recognised twice',
        timeoutMs: 30_000,
      });
      const of = (envelope: { id: string }) => () =>
        shippingDead.filter((letter) => header(letter, HEADERS.messageId) === envelope.id);
      const [letter] = await eventually(of(bad), { until: (letters) => letters.length > 0 });
      expect(header(letter, HEADERS.deadLetterReason)).toBe(
        'failed, and its outcome could not be recorded: Error: stack depth limit exceeded',
      );
      expect(seen.filter((id) => id === bad.id)).toEqual([bad.id]); // handed over once, not again and again
      expect(of(bad)()).toHaveLength(1);
      expect(of(odd)()).toEqual([]); // it came again, and was handled
    } finally {
      await shipping.stop();
      await stopShippingReader();
    }
  }, 60_000);

  it('a record too large for the dead-letter topic with its headers goes there without its value', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      // The dead-letter topic takes less than the topic the record came on: so it was, or it is
      // close to the limit and the reason's headers tip it over.
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: 2, // TOPIC
            name: deadLetterTopicOf('payments', namespace),
            configEntries: [{ name: 'max.message.bytes', value: '20000' }],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    const { letter } = await poisonThenGood('x'.repeat(50_000));
    expect(letter.value).toBeNull();
    expect(header(letter, HEADERS.deadLetterReason)).toBe('poison: the record value is not JSON');
    expect(header(letter, HEADERS.deadLetterValue)).toMatch(/^not kept: /);
    expect(header(letter, HEADERS.originalTopic)).toBe(eventTopicOf('ordering', namespace));
    expect(Number(header(letter, HEADERS.originalOffset))).toBeGreaterThanOrEqual(0);
    expect(Number(header(letter, HEADERS.originalPartition))).toBeGreaterThanOrEqual(0);
  });
});
