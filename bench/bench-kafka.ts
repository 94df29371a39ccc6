import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { leaseBroker, type BrokerLease } from '@infra/deploy/kafka/local-broker';
import { kafkaSocketFactory } from '@infra/messaging/kafka';

/** A namespace of topics and groups that no other run uses (`FICUS_KAFKA_NAMESPACE` syntax). */
export function freshNamespace(label: string): string {
  return `bench${label}${randomBytes(4).toString('hex')}`;
}

let lease: BrokerLease | undefined;

/**
 * A kafkajs client of the benchmarks' broker. The first benchmark that needs one leases it for the
 * whole run: KAFKA_BROKERS, or the local broker, started when none answers and then stopped by
 * releaseBenchBroker() at the end of the run, so a benchmark leaves nothing running behind it.
 */
export async function benchKafka(clientId: string): Promise<Kafka> {
  lease ??= await leaseBroker();
  // A fresh broker answers its first requests with retriable errors (coordinator loading, topic not
  // yet hosted) that kafkajs retries but logs as errors; what really fails is thrown.
  const kafka = new Kafka({
    clientId,
    brokers: [...lease.brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    // as the shop's processes connect (apps/service/src/run-target.ts)
    socketFactory: kafkaSocketFactory,
  });
  if (!(await answers(kafka))) {
    throw new Error(
      `no Kafka broker answers at ${lease.brokers.join(',')}: run npm run kafka:start, or point KAFKA_BROKERS at one`,
    );
  }
  return kafka;
}

/** host:port of the leased broker (benchKafka first). */
export function benchKafkaBrokers(): readonly string[] {
  if (!lease) throw new Error('benchKafka() leases the broker first');
  return lease.brokers;
}

/** Stops the local broker if the benchmarks started it; a broker someone else runs is left alone. */
export function releaseBenchBroker(): void {
  lease?.release();
  lease = undefined;
}

async function answers(kafka: Kafka): Promise<boolean> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Deletes the topics and consumer groups of a bench namespace (`<namespace>.*`). */
export async function dropNamespace(kafka: Kafka, namespace: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const mine = (name: string) => name.startsWith(`${namespace}.`);
    const { groups } = await admin.listGroups();
    const groupIds = groups.map((g) => g.groupId).filter(mine);
    if (groupIds.length > 0) await admin.deleteGroups(groupIds).catch(() => undefined);
    const topics = (await admin.listTopics()).filter(mine);
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
