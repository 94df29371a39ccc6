import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Envelope } from '@contracts/kernel';
import { topologyOnFreePorts } from '@infra/deploy/local/tcp-port';
import { launchTopology, type LaunchedTopology } from '@infra/deploy/local/topology-launcher';
import { InProcessEventTransport } from '@infra/messaging';
import { eventTopicOf, kafkaMessageOf } from '@infra/messaging/kafka';
import { commaSeparated } from '@infra/config';
import { dropDatabase, withDatabase } from '@infra/persistence';
import { loadTopology, shippedTopologyPath, type Topology } from '@infra/topology';
import { issueLocalCertificates } from '@infra/deploy/certs/local-ca';
import { startShop } from './shop';
import { asAdmin, testAdminUrl } from './test-database';

export type TopologyName = 'monolith' | 'hybrid' | 'split';

/** The shop, on one topology, seen the way scenarios need it: its URL, its data, its events. */
export interface ShopOnTopology {
  readonly topology: TopologyName;
  readonly baseUrl: string;
  /** Split topologies: the folder of every target's certificate (mutual TLS), as `npm run certs` writes it. */
  readonly certificates?: string;
  /** Split topologies: the topology as launched (the shipped file on free ports: where each target listens). */
  readonly launchedTopology?: Topology;
  /** SQL as superuser in the database that holds `context`'s schema. */
  query<T = Record<string, unknown>>(context: string, sql: string, params?: unknown[]): Promise<T[]>;
  /** Delivers an envelope again the way this topology delivers events (in-process or Kafka). */
  redeliver(envelope: Envelope): Promise<void>;
  /** Crashes (SIGKILL) and restarts the process that hosts `context`; not possible in-process. */
  crashAndRestart?(context: string, whileDown?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export const KAFKA_BROKERS = commaSeparated(process.env.KAFKA_BROKERS || '127.0.0.1:9092');

export async function startShopOn(topology: TopologyName, extraEnv: NodeJS.ProcessEnv = {}): Promise<ShopOnTopology> {
  if (topology === 'monolith') {
    const shop = await startShop('parity_monolith');
    return {
      topology,
      baseUrl: shop.baseUrl,
      query: (_context, sql, params = []) => asAdmin(shop.database, sql, params),
      redeliver: (envelope) => shop.app.get(InProcessEventTransport, { strict: false }).publish([envelope]),
      close: () => shop.close(),
    };
  }

  // Processes of their own, on databases and Kafka topics of their own (a fresh prefix), so that
  // nothing of another run can reach them.
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const certificates = mkdtempSync(join(tmpdir(), 'ficus-certs-'));
  await issueLocalCertificates(
    certificates,
    loadTopology(shippedTopologyPath(topology), { env: process.env }).targets.map((t) => t.name),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: withDatabase(testAdminUrl(), 'postgres'),
    FICUS_DB_ROLE_SECRET: 'ficus-test-role-secret',
    FICUS_DATABASE_PREFIX: prefix,
    FICUS_KAFKA_NAMESPACE: prefix,
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    LOG_LEVEL: 'warn',
    LOG_HTTP_REQUESTS: 'false',
    // Between the processes, gRPC with mutual TLS and the topology's allow-list, as shipped.
    FICUS_GRPC_TLS_DIR: certificates,
    ...extraEnv,
  };
  // The shipped file on free ports: a developer's `npm start` (3000, 4000) may be running beside the tests.
  const topologyDir = mkdtempSync(join(tmpdir(), 'ficus-topology-'));
  const topologyPath = await topologyOnFreePorts(shippedTopologyPath(topology), topologyDir);
  const launched: LaunchedTopology = await launchTopology({ topologyPath, env });
  const databaseOf = (context: string) => `${prefix}_${launched.topology.targetOf(context).name}`;
  const kafka = new Kafka({ clientId: `test-${prefix}`, brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return {
    topology,
    baseUrl: launched.edgeUrl,
    certificates,
    launchedTopology: launched.topology,
    query: (context, sql, params = []) =>
      asAdmin({ adminUrl: testAdminUrl(), database: databaseOf(context) }, sql, params),
    redeliver: async (envelope) => {
      await producer.send({
        topic: eventTopicOf(envelope.type.split('.')[0], prefix),
        acks: -1,
        messages: [kafkaMessageOf(envelope)],
      });
    },
    crashAndRestart: async (context, whileDown) => {
      const target = launched.topology.targetOf(context).name;
      await launched.kill(target);
      await whileDown?.();
      await launched.restart(target);
    },
    close: async () => {
      await producer.disconnect();
      await launched.stop();
      // Each target's own, and the edge's (its shared rate-limit counters).
      const databases = new Set([
        ...launched.topology.targets.filter((t) => t.modules.length > 0).map((t) => `${prefix}_${t.name}`),
        `${prefix}_edge`,
      ]);
      for (const database of databases) await dropDatabase(testAdminUrl(), database);
      rmSync(certificates, { recursive: true, force: true });
      rmSync(topologyDir, { recursive: true, force: true });
    },
  };
}
