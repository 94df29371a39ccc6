import type { Admin } from 'kafkajs';
import { eventually } from './eventually';

/**
 * Creates a topic and waits until each of its partitions has a leader. kafkajs's own
 * `waitForLeaders` retries only "leader not available": a busy broker may first answer that it does
 * not host the new topic-partition (retriable), and createTopics then fails a test that did
 * nothing wrong.
 */
export async function createTopicWithLeaders(
  admin: Admin,
  topic: string,
  numPartitions: number,
  replicationFactor?: number,
): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor }] });
  // A metadata error is retried by `eventually`, and reported if it lasts.
  await eventually(async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [], {
    until: (found) => found.length === numPartitions && found.every((partition) => partition.leader >= 0),
    what: `a leader for each partition of ${topic}`,
  });
}
