import { randomUUID } from 'node:crypto';
import type { Envelope } from '@contracts/kernel';
import {
  FanOutPublisher,
  InProcessEventTransport,
  Outbox,
  OutboxDispatcher,
  OutboxRelay,
  type EventDelivery,
  type EventPublisher,
} from '@infra/messaging';
import { ensureTopics, KafkaEventConsumer, KafkaEventPublisher } from '@infra/messaging/kafka';
import { UnitOfWork } from '@infra/persistence';
import { openScratchOutbox, startBenchDatabase, type BenchDatabase } from './bench-database';
import { benchKafka, dropNamespace, freshNamespace } from './bench-kafka';
import { line, percentile, writeResult } from './measure';
import { scaled } from './bench-scale';

const EVENTS = scaled(200, 20);
const GAP_MS = 10;
/** The events of each path come in rounds that alternate (a, b, b, a), so noise hits both alike. */
const ROUNDS_PER_PATH = scaled(4, 2);
/** Events through the broker before anything is timed (its JIT), in bursts of 16. */
const WARM_UP_EVENTS = scaled(800, 32);
const LOCAL = 'benchlocal';
const REMOTE = 'benchkafka';
const SINK = 'benchsink';

/** One producing context: its outbox table, unit of work and relay, woken by NOTIFY at commit. */
interface ProducingContext {
  readonly context: string;
  readonly uow: UnitOfWork;
  readonly outbox: Outbox;
  readonly relay: OutboxRelay;
  readonly dispatcher: OutboxDispatcher;
}

/**
 * A context's outbox as ContextRuntime wires it: the dispatcher hands what a transaction committed
 * to `local` subscribers (and `remote`, the broker) right after the commit; the relay sweeps.
 */
async function producingContext(
  database: BenchDatabase,
  context: string,
  local: EventPublisher,
  remote?: EventPublisher,
): Promise<ProducingContext> {
  const { dataSource, url } = await openScratchOutbox(database, 'ficus_bench_outbox_latency', context);
  const uow = new UnitOfWork(context, dataSource);
  const dispatcher = new OutboxDispatcher({
    context,
    table: 'outbox',
    dataSource,
    local,
    remote,
    leftToRelay: () => relay.wake(),
  });
  const relay: OutboxRelay = new OutboxRelay({
    context,
    dataSource,
    listenUrl: url,
    table: 'outbox',
    publisher: remote ? new FanOutPublisher([local, remote]) : local,
    inFlight: () => dispatcher.inFlight(),
  });
  await relay.start();
  const outbox = new Outbox(uow, { onCommitted: (envelopes) => dispatcher.committed(envelopes) });
  return { context, uow, outbox, relay, dispatcher };
}

function tick(context: string, n: number): Envelope {
  const id = randomUUID();
  return {
    id,
    type: `${context}.tick`,
    version: 1,
    occurredAt: new Date().toISOString(),
    aggregateId: randomUUID(),
    correlationId: id,
    payload: { n },
  };
}

/**
 * (6) How long an integration event takes from the commit of its outbox row to the consumer's
 * handler: in-process (the monolith: the dispatcher hands it to InProcessEventTransport right
 * after the commit) and over Kafka (the dispatcher publishes with KafkaEventPublisher, a
 * KafkaEventConsumer group hands it to the delivery). Events arrive paced, one every 10 ms, each
 * committed in a transaction of its own through Outbox; the handler only notes the time.
 */
export async function benchOutboxLatency(): Promise<Record<string, unknown>> {
  const database = await startBenchDatabase('outbox-latency', 'FICUS_BENCH_LATENCY_PG_PORT');
  const namespace = freshNamespace('lat');
  const kafka = await benchKafka(`ficus-bench-${namespace}`).catch(async (error: unknown) => {
    await database.stop();
    throw error;
  });
  const delivered = new Map<string, number>();
  const delivery = (eventKey: string): EventDelivery => ({
    consumer: `${SINK}:${eventKey}`,
    eventKey,
    deliver: async (envelope) => {
      if (!delivered.has(envelope.id)) delivered.set(envelope.id, performance.now());
    },
  });
  const contexts: ProducingContext[] = [];
  let consumer: KafkaEventConsumer | undefined;
  const publisher = new KafkaEventPublisher(kafka, namespace);
  try {
    await ensureTopics(kafka, { contexts: [REMOTE, SINK], partitionsOf: () => 6, replicationFactor: 1, namespace });
    const events = new InProcessEventTransport();
    events.subscribe(delivery(`${LOCAL}.tick.v1`));
    const local = await producingContext(database, LOCAL, events);
    const remote = await producingContext(database, REMOTE, new InProcessEventTransport(), publisher);
    contexts.push(local, remote);
    consumer = new KafkaEventConsumer(kafka, { context: SINK, deliveries: [delivery(`${REMOTE}.tick.v1`)], namespace });
    await consumer.start();

    /** The instant the COMMIT was answered: the dispatcher hands the event on at that very moment. */
    const commit = async (producer: ProducingContext, n: number): Promise<[string, number]> => {
      const envelope = tick(producer.context, n);
      let committedAt = 0;
      await producer.uow.transaction(async () => {
        producer.uow.afterCommit(() => (committedAt = performance.now())); // registered first, runs first
        await producer.outbox.add(envelope);
      });
      return [envelope.id, committedAt];
    };
    const waitDelivered = async (ids: readonly string[], timeoutMs: number) => {
      const started = Date.now();
      while (!ids.every((id) => delivered.has(id))) {
        if (Date.now() - started > timeoutMs) {
          throw new Error(
            `benchmark: ${ids.filter((id) => !delivered.has(id)).length} events not delivered within ${timeoutMs} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    /** Paced events (an open loop: one due every GAP_MS, whether or not the last is through). */
    const pacedRound = async (producer: ProducingContext, count: number): Promise<number[]> => {
      const started = performance.now();
      const commits: Array<Promise<[string, number]>> = [];
      for (let i = 0; i < count; i++) {
        const due = started + i * GAP_MS;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        commits.push(commit(producer, i));
      }
      const committed = await Promise.all(commits);
      await waitDelivered(
        committed.map(([id]) => id),
        30_000,
      );
      return committed.map(([id, at]) => delivered.get(id)! - at);
    };

    // warm up both paths; over Kafka this also waits for the consumer group to get its partitions
    await pacedRound(local, scaled(20, 5));
    const [firstId] = await commit(remote, -1);
    await waitDelivered([firstId], 60_000);
    // A broker in service has long been warm; a fresh JVM is still compiling its produce and fetch
    // paths (one run measured 100 ms right after the broker started). As the split benchmark's
    // warm-up does (SPLIT_WARM_UP_ORDERS), a burst first, not timed: 16 commits at a time.
    for (let i = 0; i < WARM_UP_EVENTS; i += 16) {
      const burst = await Promise.all(Array.from({ length: 16 }, (_, j) => commit(remote, i + j)));
      await waitDelivered(
        burst.map(([id]) => id),
        30_000,
      );
    }
    await pacedRound(remote, scaled(20, 5));

    const inProcess: number[] = [];
    const overKafka: number[] = [];
    const perRound = EVENTS / ROUNDS_PER_PATH;
    for (let round = 0; round < ROUNDS_PER_PATH; round++) {
      if (round % 2 === 0) {
        inProcess.push(...(await pacedRound(local, perRound)));
        overKafka.push(...(await pacedRound(remote, perRound)));
      } else {
        overKafka.push(...(await pacedRound(remote, perRound)));
        inProcess.push(...(await pacedRound(local, perRound)));
      }
    }
    const ms = (n: number) => Math.round(n * 100) / 100;
    const summary = (values: number[]) => ({
      p50: ms(percentile(values, 50)),
      p99: ms(percentile(values, 99)),
      max: ms(Math.max(...values)),
    });
    const figures = {
      events: EVENTS,
      gapMs: GAP_MS,
      warmUpEvents: WARM_UP_EVENTS,
      latencyMs: { inProcess: summary(inProcess), kafka: summary(overKafka) },
      ratioP50: Number((percentile(overKafka, 50) / percentile(inProcess, 50)).toFixed(2)),
    };
    line(`(6) outbox commit → consumer handler, ${EVENTS} events one every ${GAP_MS} ms, each its own transaction`);
    line(
      `    in-process     p50 ${figures.latencyMs.inProcess.p50} ms   p99 ${figures.latencyMs.inProcess.p99} ms   max ${figures.latencyMs.inProcess.max} ms   (monolith: OutboxDispatcher after the commit → InProcessEventTransport)`,
    );
    line(
      `    over Kafka     p50 ${figures.latencyMs.kafka.p50} ms   p99 ${figures.latencyMs.kafka.p99} ms   max ${figures.latencyMs.kafka.max} ms   (OutboxDispatcher → KafkaEventPublisher → KafkaEventConsumer)`,
    );
    line(`    Kafka / in-process at p50   ${figures.ratioP50}×`);
    writeResult('outbox-latency', figures);
    return figures;
  } finally {
    await consumer?.stop().catch(() => undefined);
    for (const producer of contexts) await producer.dispatcher.stop();
    for (const producer of contexts) await producer.relay.stop();
    await publisher.close();
    for (const producer of contexts) await producer.uow.dataSource.destroy().catch(() => undefined);
    await dropNamespace(kafka, namespace).catch((error: unknown) =>
      line(`    (could not delete the bench's Kafka topics: ${String(error)})`),
    );
    await database.stop();
  }
}
