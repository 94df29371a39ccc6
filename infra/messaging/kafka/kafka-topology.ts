import type { Kafka } from 'kafkajs';
import { deadLetterTopicOf, eventTopicOf } from './kafka-topics';

export interface TopicPlan {
  readonly contexts: readonly string[];
  readonly partitionsOf: (context: string) => number;
  readonly replicationFactor: number;
  readonly namespace?: string;
}

/**
 * Creates the event and dead-letter topics of every context with the configured partition
 * counts; topics that exist already are left as they are. Brokers never auto-create ficus topics.
 */
export async function ensureTopics(kafka: Kafka, plan: TopicPlan): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = plan.contexts.flatMap((context) => [
      { topic: eventTopicOf(context, plan.namespace), numPartitions: plan.partitionsOf(context) },
      { topic: deadLetterTopicOf(context, plan.namespace), numPartitions: 1 },
    ]);
    const missing = wanted.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({ ...t, replicationFactor: plan.replicationFactor })),
      });
    }
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}
