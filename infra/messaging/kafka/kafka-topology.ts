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
  // Processes of one topology start side by side and may create the same topics at once; the
  // broker then answers metadata for a topic it is still creating with a retriable error (unknown
  // topic-partition). Looking again a moment later finds the topics there.
  for (let attempt = 1; ; attempt++) {
    try {
      return await createMissingTopics(kafka, plan);
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

async function createMissingTopics(kafka: Kafka, plan: TopicPlan): Promise<string[]> {
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
