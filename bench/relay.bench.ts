import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { Envelope } from '@contracts/kernel';
import { OutboxRelay, outboxInsert, type EventPublisher } from '@infra/messaging';
import { ensureTopics, eventTopicOf, kafkaMessageOf, KafkaEventPublisher } from '@infra/messaging/kafka';
import { openScratchOutbox, startBenchDatabase } from './bench-database';
import { benchKafka, dropNamespace, freshNamespace } from './bench-kafka';
import { line, median, sideBySide, writeResult } from './measure';
import { scaled } from './bench-scale';

const RECORDS = scaled(5_000, 400);
const BATCH = 200;
/** Rounds of each side, alternated; a round is about a quarter of a second, and raw kafkajs's own wander by a third. */
const ROUNDS = scaled(11, 1);
const CONTEXT = 'bench';

/** Envelopes shaped like the shop's (an order line, a total), one aggregate each. */
function envelopes(count: number): Envelope[] {
  const occurredAt = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => {
    const orderId = randomUUID();
    return {
      id: randomUUID(),
      type: `${CONTEXT}.order-recorded`,
      version: 1,
      occurredAt,
      aggregateId: orderId,
      correlationId: orderId,
      payload: {
        orderId,
        customerId: '5b0e6f5e-2f5c-4b7e-9d2a-8f1e3c4d5a6b',
        items: [{ sku: 'FICUS-PUMILA', quantity: 1 + (i % 3), unitPrice: { amountMinor: 1_290, currency: 'EUR' } }],
        total: { amountMinor: 1_290 * (1 + (i % 3)), currency: 'EUR' },
      },
    };
  });
}

/** Commits `rows` into the outbox as a burst of transactions (not timed). */
async function fillOutbox(dataSource: DataSource, rows: readonly Envelope[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const { sql, params } = outboxInsert(CONTEXT, 'outbox', rows.slice(i, i + 500));
    await dataSource.query(sql, params);
  }
}

/**
 * (5) Outbox relay throughput to Kafka: 5,000 committed outbox rows, timed until every row is
 * marked sent (the relay's own loop: claim a batch of 200 under the context's advisory lock,
 * publish with KafkaEventPublisher — idempotent producer, acks from all replicas — mark sent,
 * commit), against a plain kafkajs idempotent producer sending the same 5,000 records in batches
 * of 200 with acks -1 and nothing else.
 */
export async function benchRelay(): Promise<Record<string, unknown>> {
  const database = await startBenchDatabase('relay', 'FICUS_BENCH_RELAY_PG_PORT');
  const namespace = freshNamespace('relay');
  let dataSource: DataSource | undefined;
  let publisher: KafkaEventPublisher | undefined;
  let producer: Producer | undefined;
  const kafka = await benchKafka(`ficus-bench-${namespace}`).catch(async (error: unknown) => {
    await database.stop();
    throw error;
  });
  try {
    await ensureTopics(kafka, { contexts: [CONTEXT], partitionsOf: () => 6, replicationFactor: 1, namespace });
    const scratch = await openScratchOutbox(database, 'ficus_bench_relay', CONTEXT);
    const outbox = scratch.dataSource;
    dataSource = outbox;
    const kafkaPublisher = new KafkaEventPublisher(kafka, namespace);
    publisher = kafkaPublisher;
    // Where a relay round's time goes: handing batches to Kafka, or the rest (PostgreSQL).
    let publishMs = 0;
    const publishShares: number[] = [];
    const timedPublisher: EventPublisher = {
      kind: kafkaPublisher.kind,
      publish: async (batch) => {
        const started = performance.now();
        await kafkaPublisher.publish(batch);
        publishMs += performance.now() - started;
      },
    };
    // Not started: no LISTEN wake-ups or sweeps during a round, only its batch loop (flush).
    const relay = new OutboxRelay({
      context: CONTEXT,
      dataSource: outbox,
      listenUrl: scratch.url,
      table: 'outbox',
      publisher: timedPublisher,
      batchSize: BATCH,
    });
    const rawProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    producer = rawProducer;
    await rawProducer.connect();
    const topic = eventTopicOf(CONTEXT, namespace);

    const relayRound = async (records: number) => {
      await fillOutbox(outbox, envelopes(records));
      publishMs = 0;
      const started = performance.now();
      await relay.flush();
      const elapsed = performance.now() - started;
      publishShares.push(publishMs / elapsed);
      const [{ pending }] = (await outbox.query(
        'SELECT count(*)::int AS pending FROM outbox WHERE published_at IS NULL',
      )) as Array<{
        pending: number;
      }>;
      if (pending !== 0) throw new Error(`the relay left ${pending} rows unsent`);
      return elapsed;
    };
    const rawRound = async (records: number) => {
      const batch = envelopes(records);
      const started = performance.now();
      for (let i = 0; i < batch.length; i += BATCH) {
        await rawProducer.send({ topic, acks: -1, messages: batch.slice(i, i + BATCH).map(kafkaMessageOf) });
      }
      return performance.now() - started;
    };

    // warm up: connections, JIT (both sides' rounds kept getting faster through the first timed
    // ones after a warm-up of 1,000 records), the topic's partition leaders
    for (let round = 0; round < scaled(3, 1); round++) {
      await relayRound(RECORDS);
      await rawRound(RECORDS);
    }
    publishShares.length = 0;
    const result = await sideBySide(
      () => relayRound(RECORDS),
      () => rawRound(RECORDS),
      ROUNDS,
    );
    const perSecond = (ms: number) => Math.round(RECORDS / (ms / 1_000));
    const figures = {
      records: RECORDS,
      batchSize: BATCH,
      rounds: ROUNDS,
      partitions: 6,
      relayRecordsPerSecond: perSecond(result.a),
      rawKafkajsRecordsPerSecond: perSecond(result.b),
      ratio: Number((result.b / result.a).toFixed(3)),
      /** Each relay round against the raw round beside it: how far one pair wanders from the median. */
      pairRatios: result.roundsA.map((relayMs, i) => Number((result.roundsB[i] / relayMs).toFixed(3))),
      aim: '≥ 0.7',
      relayTimeInKafkaPublish: Number(median(publishShares).toFixed(3)),
      roundsMs: { relay: result.roundsA.map(Math.round), rawKafkajs: result.roundsB.map(Math.round) },
    };
    line(
      `(5) outbox relay to Kafka vs a plain kafkajs producer: ${RECORDS} records, batches of ${BATCH}, acks -1, idempotent`,
    );
    line(
      `    ficus relay    ${figures.relayRecordsPerSecond} records/s (committed rows until all marked sent; median of ${ROUNDS} rounds)`,
    );
    line(
      `                   of which ${Math.round(figures.relayTimeInKafkaPublish * 100)} % handing batches to Kafka (claims and marks overlap it)`,
    );
    line(`    raw kafkajs    ${figures.rawKafkajsRecordsPerSecond} records/s (the same records, send only)`);
    line(
      `    ratio          ${figures.ratio}   (aim ≥ 0.7; round by round ${Math.min(...figures.pairRatios)}–${Math.max(...figures.pairRatios)})`,
    );
    writeResult('relay', figures);
    return figures;
  } finally {
    await producer?.disconnect().catch(() => undefined);
    await publisher?.close();
    await dataSource?.destroy().catch(() => undefined);
    await dropNamespace(kafka, namespace).catch((error: unknown) =>
      line(`    (could not delete the bench's Kafka topics: ${String(error)})`),
    );
    await database.stop();
  }
}
