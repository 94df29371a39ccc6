import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

export const BENCH_KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());

/** A namespace of topics and groups that no other run uses (`FICUS_KAFKA_NAMESPACE` syntax). */
export function freshNamespace(label: string): string {
  return `bench${label}${randomBytes(4).toString('hex')}`;
}

/**
 * A kafkajs client of the bench's broker. With KAFKA_BROKERS unset, the local broker is started
 * first if it does not answer (`npm run kafka:start`, which leaves a running one alone); it is
 * left running afterwards, as the project's other users expect.
 */
export async function benchKafka(clientId: string): Promise<Kafka> {
  const kafka = new Kafka({ clientId, brokers: BENCH_KAFKA_BROKERS, logLevel: logLevel.ERROR, connectionTimeout: 3_000 });
  if (!(await answers(kafka)) && !process.env.KAFKA_BROKERS) {
    const started = spawnSync(process.execPath, ['-r', '@swc-node/register', 'infra/deploy/kafka/kafka-broker.ts', 'start'], {
      cwd: resolve(__dirname, '..'),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (started.status !== 0) throw new Error('the local Kafka broker did not start (npm run kafka:start; see above)');
  }
  if (!(await answers(kafka))) {
    throw new Error(`no Kafka broker answers at ${BENCH_KAFKA_BROKERS.join(',')}: run npm run kafka:start, or point KAFKA_BROKERS at one`);
  }
  return kafka;
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
