import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics, eventTopicOf } from '@infra/messaging/kafka';
import { KAFKA_BROKERS } from '../support/topology-shop';

/** Processes of one topology start side by side, and each makes sure its topics exist. */
describe('topics made by several processes at once', () => {
  it('all of them succeed, and the topics exist once', async () => {
    const namespace = `et${randomBytes(4).toString('hex')}`;
    const plan = {
      contexts: ['ordering', 'inventory', 'payments', 'shipping'],
      partitionsOf: () => 3,
      replicationFactor: 1,
      namespace,
    };
    const clients = Array.from(
      { length: 6 },
      (_, i) => new Kafka({ clientId: `${namespace}-${i}`, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }),
    );
    await Promise.all(clients.map((kafka) => ensureTopics(kafka, plan)));
    const admin = clients[0].admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${namespace}.`));
      expect(topics).toContain(eventTopicOf('ordering', namespace));
      expect(topics).toHaveLength(plan.contexts.length * 2);
      await admin.deleteTopics({ topics });
    } finally {
      await admin.disconnect();
    }
  });
});
