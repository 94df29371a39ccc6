import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { KafkaLagCollector, processMetrics } from '@infra/observability';
import { eventually } from '../support/eventually';
import { FaultProxy } from '../support/fault-proxy';
import { parseExposition } from '../support/metrics-scrape';
import { createTopicWithLeaders } from '../support/kafka-topics';
import { KAFKA_BROKERS } from '../support/topology-shop';

/** Consumer lag as /metrics shows it: from the broker's offsets, and never a hung scrape. */
describe('the consumer lag of a group', () => {
  const kafka = new Kafka({ clientId: 'lag-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const topic = `lag-${randomBytes(4).toString('hex')}.ordering.events`;
  const group = `lag-${randomBytes(4).toString('hex')}.shipping`;
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await createTopicWithLeaders(admin, topic, 2, 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [0, 0, 0, 1, 1].map((partition, i) => ({ partition, value: `record ${i}` })),
    });
    await producer.disconnect();
    // The group has read one record of partition 0 and committed nothing on partition 1.
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '1' }] });
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('is the high watermark minus the committed offset (the log start when none), summed per topic', async () => {
    const collector = new KafkaLagCollector(kafka, [{ group, topics: [topic] }], { waitMs: 5_000 });
    try {
      expect(await collector.samples()).toEqual([{ labels: { group, topic }, value: 2 + 2 }]);
      const scraped = parseExposition(await processMetrics.metrics()).find('ficus_consumer_lag', { group, topic });
      expect(scraped.map((s) => s.value)).toEqual([4]);
    } finally {
      await collector.close();
    }
    expect(parseExposition(await processMetrics.metrics()).find('ficus_consumer_lag', { group })).toEqual([]);
  });

  it('never holds a scrape when the broker does not answer', async () => {
    const [host, port] = KAFKA_BROKERS[0].split(':');
    const proxy = await FaultProxy.start({ host, port: Number(port) });
    proxy.set({ blackhole: true });
    const unanswered = new Kafka({
      clientId: 'lag-test-blackholed',
      brokers: [`127.0.0.1:${proxy.port}`],
      connectionTimeout: 500,
      requestTimeout: 1_000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    const collector = new KafkaLagCollector(unanswered, [{ group, topics: [topic] }], {
      waitMs: 200,
      readTimeoutMs: 1_500,
    });
    try {
      const started = Date.now();
      expect(await collector.samples()).toEqual([]);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await collector.close();
      await proxy.close();
    }
  });
});

describe('the lag cache', () => {
  /** A broker whose admin answers from a script: `hang` makes every call wait for ever. */
  function scriptedKafka(state: { hang: boolean; high: number }) {
    const answer = <T>(value: () => T) => (state.hang ? new Promise<T>(() => undefined) : Promise.resolve(value()));
    const admin = {
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      fetchTopicOffsets: () =>
        answer(() => [{ partition: 0, offset: String(state.high), high: String(state.high), low: '0' }]),
      fetchOffsets: () => answer(() => [{ topic: 't', partitions: [{ partition: 0, offset: '0', metadata: null }] }]),
    };
    return { admin: () => admin } as unknown as Kafka;
  }

  it('serves the last read while the broker is silent, until it is stale, then nothing', async () => {
    const state = { hang: false, high: 7 };
    const collector = new KafkaLagCollector(scriptedKafka(state), [{ group: 'g', topics: ['t'] }], {
      cacheMs: 0,
      waitMs: 50,
      staleAfterMs: 400,
      readTimeoutMs: 100,
    });
    try {
      expect(await collector.samples()).toEqual([{ labels: { group: 'g', topic: 't' }, value: 7 }]);
      state.hang = true;
      state.high = 9;
      const whileSilent = await collector.samples();
      expect(whileSilent).toEqual([{ labels: { group: 'g', topic: 't' }, value: 7 }]);
      await eventually(() => collector.samples(), {
        until: (samples) => samples.length === 0,
        what: 'the stale lag dropped',
      });
      state.hang = false;
      await eventually(() => collector.samples(), {
        until: (samples) => samples[0]?.value === 9,
        what: 'a fresh read',
      });
    } finally {
      await collector.close();
    }
  });
});
