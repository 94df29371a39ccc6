import { randomUUID } from 'node:crypto';
import { Admin, Consumer, EachMessagePayload, Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { eventually } from '../support/eventually';
import { createTopicWithLeaders } from '../support/kafka-topics';

/**
 * The broker that ficus runs against (`npm run kafka:start`, or KAFKA_BROKERS) does with kafkajs
 * what the Kafka transport relies on: idempotent keyed produce, a consumer group that commits by
 * hand after processing, and a rebalance that splits partitions between members. This is the
 * check that docs/adr/0012-kafka-3.9-local-broker.md asks of any other broker version.
 */

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
  .split(',')
  .map((broker) => broker.trim())
  .filter(Boolean);

const kafka = new Kafka({
  clientId: 'ficus-kafka-smoke',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 3_000,
});

const runId = `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
const partitions = [0, 1, 2];

/** What the test closes at the end, whatever happened. */
const opened: Array<{ disconnect(): Promise<void> }> = [];
const topics: string[] = [];
const groups: string[] = [];
let admin: Admin;

async function connectAdmin(): Promise<Admin> {
  const client = new Kafka({
    clientId: 'ficus-kafka-smoke-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    retry: { retries: 1 },
  }).admin();
  try {
    await client.connect();
    await client.describeCluster();
    return client;
  } catch (error) {
    await client.disconnect().catch(() => undefined);
    throw new Error(
      `no Kafka broker answers at ${brokers.join(',')}: run \`npm run kafka:start\` first ` +
        `(it needs Java 17+ and Maven), or point KAFKA_BROKERS at a broker. ` +
        `(${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

async function newTopic(name: string): Promise<string> {
  const topic = `ficus-smoke-${name}-${runId}`;
  topics.push(topic);
  await createTopicWithLeaders(admin, topic, partitions.length);
  return topic;
}

function newGroup(name: string): string {
  const groupId = `ficus-smoke-${name}-${runId}`;
  groups.push(groupId);
  return groupId;
}

async function idempotentProducer(): Promise<Producer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  opened.push(producer);
  await producer.connect();
  return producer;
}

/** A group member that polls often, so that it heartbeats (and so hears of a rebalance) quickly. */
function groupMember(groupId: string): { consumer: Consumer; assigned: () => number[] | undefined } {
  const consumer = kafka.consumer({ groupId, heartbeatInterval: 300, maxWaitTimeInMs: 300, sessionTimeout: 10_000 });
  opened.push(consumer);
  let assignment: number[] | undefined;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    assignment = Object.values(payload.memberAssignment)
      .flat()
      .sort((a, b) => a - b);
  });
  return { consumer, assigned: () => assignment };
}

beforeAll(async () => {
  admin = await connectAdmin();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((client) => client.disconnect()));
  if (admin) {
    await admin.deleteGroups(groups).catch(() => undefined);
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
});

describe('the Kafka broker, through kafkajs', () => {
  it('delivers an idempotent producer’s keyed messages to a group member that commits after processing', async () => {
    const topic = await newTopic('commit');
    const groupId = newGroup('commit');
    const producer = await idempotentProducer();
    const keys = Array.from({ length: 9 }, (_, index) => `order-${index}`);
    const perKey = 5;
    const messages = keys.flatMap((key) =>
      Array.from({ length: perKey }, (_, sequence) => ({ key, value: JSON.stringify({ key, sequence }) })),
    );

    const sent = await producer.send({ topic, acks: -1, messages });
    expect(sent.every((record) => record.errorCode === 0)).toBe(true);

    const processed: Array<{ key: string; sequence: number; partition: number }> = [];
    const { consumer } = groupMember(groupId);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }: EachMessagePayload) => {
        processed.push({ ...JSON.parse(String(message.value)), partition });
        // The inbox's transaction commits first, then the offset: at-least-once delivery.
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });

    await eventually(() => processed.length, {
      until: (count) => count >= messages.length,
      timeoutMs: 15_000,
      what: 'all messages processed',
    });
    expect(processed).toHaveLength(messages.length); // the idempotent producer wrote each exactly once
    for (const key of keys) {
      const ofKey = processed.filter((message) => message.key === key);
      // One key, one partition, in the order it was sent.
      expect(new Set(ofKey.map((message) => message.partition)).size).toBe(1);
      expect(ofKey.map((message) => message.sequence)).toEqual([0, 1, 2, 3, 4]);
    }

    const endOffsets = await admin.fetchTopicOffsets(topic);
    const committed = await eventually(
      async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions,
      {
        // A partition that no key hashed to has nothing to commit: Kafka reports -1 for it.
        until: (committedNow) =>
          committedNow.every(({ partition, offset }) => {
            const high = endOffsets.find((end) => end.partition === partition)?.high;
            return offset === (high === '0' ? '-1' : high);
          }),
        timeoutMs: 10_000,
        what: 'committed offsets reach the end of every partition',
      },
    );
    expect(committed.reduce((sum, { offset }) => sum + Math.max(Number(offset), 0), 0)).toBe(messages.length);
  });

  it('splits the partitions between two members when a second one joins the group', async () => {
    const topic = await newTopic('rebalance');
    const groupId = newGroup('rebalance');
    const receivedBy = new Map<number, 'first' | 'second'>();

    const first = groupMember(groupId);
    await first.consumer.connect();
    await first.consumer.subscribe({ topic, fromBeginning: true });
    await first.consumer.run({
      eachMessage: async ({ partition }) => {
        receivedBy.set(partition, 'first');
      },
    });
    await eventually(first.assigned, {
      until: (assigned) => assigned?.length === partitions.length,
      timeoutMs: 15_000,
      what: 'the first member holds every partition',
    });

    const second = groupMember(groupId);
    await second.consumer.connect();
    await second.consumer.subscribe({ topic, fromBeginning: true });
    await second.consumer.run({
      eachMessage: async ({ partition }) => {
        receivedBy.set(partition, 'second');
      },
    });
    const [ofFirst, ofSecond] = await eventually(() => [first.assigned() ?? [], second.assigned() ?? []], {
      until: ([a, b]) =>
        a.length > 0 && b.length > 0 && [...a, ...b].sort((x, y) => x - y).join() === partitions.join(),
      timeoutMs: 20_000,
      what: 'the partitions are split between the two members',
    });

    // Each partition's messages now go to the member that holds it, and only there.
    const producer = await idempotentProducer();
    await producer.send({
      topic,
      acks: -1,
      messages: partitions.map((partition) => ({ partition, key: `p${partition}`, value: 'after rebalance' })),
    });
    await eventually(() => receivedBy.size, { until: (size) => size === partitions.length, timeoutMs: 10_000 });
    for (const partition of ofFirst) {
      expect(receivedBy.get(partition)).toBe('first');
    }
    for (const partition of ofSecond) {
      expect(receivedBy.get(partition)).toBe('second');
    }
  });
});
