import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Kafka, logLevel } from 'kafkajs';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { setUpHttpEdge } from '@apps/http-edge';
import { ALL_CONTRACTS } from '@contracts/all-contracts';
import { BOUNDED_CONTEXTS } from '@contracts/kernel';
import { loadGrpcTls } from '@infra/messaging/grpc';
import { KafkaEventPublisher, ensureTopics } from '@infra/messaging/kafka';
import type { DatabaseConfig } from '@infra/persistence';
import { ProcessWiring, readProcessEnv, resolveDatabase } from '@infra/runtime';
import { loadTopology, type DeployTarget, type Topology } from '@infra/topology';
import { MODULES } from './module-catalogue';
import { ServiceModule } from './service.module';

export interface RunningTarget {
  readonly topology: Topology;
  readonly target: DeployTarget;
  readonly app: NestExpressApplication;
  close(): Promise<void>;
}

/**
 * Starts one deploy target of a topology: its modules (or the public API, for the edge), its
 * database, its gRPC server and routes to the others, its Kafka consumers. The same code for
 * every target and every topology; only the YAML differs.
 */
export async function runTarget(options: { topologyPath: string; target: string; log: PinoLogger }): Promise<RunningTarget> {
  const env = readProcessEnv();
  const topology = loadTopology(options.topologyPath);
  const target = topology.target(options.target);
  const modules = target.modules.map((name) => MODULES[name]);

  let database: DatabaseConfig | undefined;
  let stopDatabase = async () => undefined as void;
  // The bare edge stores its rate-limit counters (ADR 0022) in a database of its own, which every
  // gateway replica shares: <prefix>_edge on the shared server, or DATABASE_URL_EDGE.
  if (target.modules.length > 0 || target.edge) {
    const resolved = await resolveDatabase(env, (line) => options.log.debug({ component: 'embedded-postgres' }, line));
    database = target.modules.length > 0 ? databaseOf(target, resolved.config) : edgeDatabaseOf(resolved.config);
    stopDatabase = resolved.stop;
  }

  const kafka = topology.isSingleProcess
    ? undefined
    : new Kafka({ clientId: `ficus-${target.name}`, brokers: [...topology.kafka.brokers], logLevel: logLevel.ERROR });
  if (kafka) {
    await ensureTopics(kafka, {
      contexts: BOUNDED_CONTEXTS,
      partitionsOf: (context) => topology.partitionsOf(context),
      replicationFactor: env.FICUS_KAFKA_REPLICATION_FACTOR,
      namespace: env.FICUS_KAFKA_NAMESPACE,
    });
  }
  const publisher = kafka ? new KafkaEventPublisher(kafka, env.FICUS_KAFKA_NAMESPACE) : undefined;

  const app = await NestFactory.create<NestExpressApplication>(
    ServiceModule.forTarget({ modules, edge: target.edge, root: { database, remotePublisher: publisher } }),
    { bodyParser: false, bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  setUpHttpEdge(app);
  const wiring = new ProcessWiring(app, {
    topology,
    target: target.name,
    contracts: ALL_CONTRACTS,
    kafka,
    kafkaNamespace: env.FICUS_KAFKA_NAMESPACE,
    tls: env.FICUS_GRPC_TLS_DIR && !topology.isSingleProcess ? loadGrpcTls(env.FICUS_GRPC_TLS_DIR, target.name) : undefined,
  });
  await app.init(); // modules serve their contracts while initialising, so routes come after
  wiring.routeRemoteContracts();
  await wiring.start();
  await app.listen(target.http.port, target.http.host);
  return {
    topology,
    target,
    app,
    close: async () => {
      await app.close();
      wiring.stop();
      await publisher?.close();
      await stopDatabase();
    },
  };
}

/** Which database a target's contexts live in: the shared one, one of its own, or a given URL. */
function databaseOf(target: DeployTarget, shared: DatabaseConfig): DatabaseConfig {
  switch (target.database.kind) {
    case 'name':
      return { ...shared, database: target.database.name };
    case 'url': {
      const url = target.database.url;
      return { ...shared, contextUrls: Object.fromEntries(target.modules.map((m) => [m, url])) };
    }
    default:
      return shared;
  }
}

/** Where a gateway that hosts no module keeps what it stores. */
function edgeDatabaseOf(shared: DatabaseConfig): DatabaseConfig {
  return { ...shared, database: `${process.env.FICUS_DATABASE_PREFIX ?? 'ficus'}_edge` };
}
