import type { Admin } from 'kafkajs';
import { eventually } from './eventually';

/**
 * Creates a topic and waits until each of its partitions has a leader. kafkajs's own
 * `waitForLeaders` retries only "leader not available": a busy broker may first answer that it does
 * not host the new topic-partition (retriable), and createTopics then fails a test that did
 * nothing wrong.
 */
export async function createTopicWithLeaders(admin: Admin, topic: string, numPartitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await eventually(
    async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      return metadata?.topics[0]?.partitions ?? [];
    },
    {
      until: (found) => found.length === numPartitions && found.every((partition) => partition.leader >= 0),
      what: `a leader for each partition of ${topic}`,
    },
  );
}
