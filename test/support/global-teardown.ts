import type { BrokerLease } from '../../infra/deploy/kafka/local-broker';

type Global = typeof globalThis & { __ficusTestDatabase?: { stop(): Promise<void> }; __ficusKafka?: BrokerLease };

/** Stops what globalSetup started, and only that. */
export default async function globalTeardown(): Promise<void> {
  const global = globalThis as Global;
  await global.__ficusTestDatabase?.stop();
  global.__ficusKafka?.release();
}
