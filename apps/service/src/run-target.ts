import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Kafka, logLevel } from 'kafkajs';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import { AccessTokenVerifier, httpEdgeAdapter, RequestContexts, serveOperations, setUpHttpEdge } from '@apps/http-edge';
import { ALL_CONTRACTS } from '@contracts/all-contracts';
import { IdentityContract } from '@contracts/identity';
import { BOUNDED_CONTEXTS, type Caller } from '@contracts/kernel';
import { readInstanceSettings, startProcessDiscovery, withInstancePorts } from '@infra/discovery';
import { loadGrpcTls } from '@infra/messaging/grpc';
import { KafkaEventPublisher, ensureTopics, kafkaCredentialsOf } from '@infra/messaging/kafka';
import type { DatabaseConfig } from '@infra/persistence';
import { ContractBus } from '@infra/messaging';
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
export async function runTarget(options: {
  topologyPath: string;
  target: string;
  log: PinoLogger;
  instance?: string;
  /** Run the target's second version, on the ports its `canary:` names (ADR 0032). */
  canary?: boolean;
}): Promise<RunningTarget> {
  const env = readProcessEnv();
  // A second instance of a target runs on ports of its own (FICUS_GRPC_PORT, FICUS_HTTP_PORT).
  const instance = readInstanceSettings(process.env, { instance: options.instance });
  const loaded = loadTopology(options.topologyPath);
  const topology = withInstancePorts(options.canary ? asCanary(loaded, options.target) : loaded, options.target, instance);
  const target = topology.target(options.target);
  if (!topology.isSingleProcess && !env.FICUS_GRPC_TLS_DIR && env.FICUS_GRPC_PLAINTEXT !== 'loopback') {
    throw new Error(
      `${target.name}: gRPC between processes needs mutual TLS. Set FICUS_GRPC_TLS_DIR to the certificates (\`npm run certs\` makes them), ` +
        'or FICUS_GRPC_PLAINTEXT=loopback to try the split shop on one machine (plain text, served on 127.0.0.1 only)',
    );
  }
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

  // The registry, when the topology finds any target through it (ADR 0030); nothing otherwise.
  const discovery = await startProcessDiscovery({ topology, target: target.name, database, instance });

  const kafkaCredentials = kafkaCredentialsOf(process.env);
  // No broker in a topology whose only other target is an extraction in progress: no event leaves.
  const kafka = topology.isSingleProcess || topology.kafka.brokers.length === 0
    ? undefined
    : new Kafka({ clientId: `ficus-${target.name}`, brokers: [...topology.kafka.brokers], logLevel: logLevel.ERROR, ...kafkaCredentials });
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
    ServiceModule.forTarget({
      modules,
      edge: target.edge,
      servesJwks: target.modules.includes('identity'),
      root: { database, remotePublisher: publisher, callsOnly: target.extractedFrom ? target.modules : [] },
    }),
    httpEdgeAdapter(),
    { bodyParser: false, bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  setUpHttpEdge(app, { legacy: target.edge ? target.legacy : null });
  const wiring = new ProcessWiring(app, {
    topology,
    target: target.name,
    contracts: ALL_CONTRACTS,
    kafka,
    kafkaNamespace: env.FICUS_KAFKA_NAMESPACE,
    kafkaCredentials,
    discovery: discovery?.watcher,
    tls: env.FICUS_GRPC_TLS_DIR && !topology.isSingleProcess ? loadGrpcTls(env.FICUS_GRPC_TLS_DIR, target.name) : undefined,
    // The end user of a served call, from the token the edge relays (ADR 0031): verified as the
    // edge verifies it, against identity's keys fetched through the identity contract (over mTLS
    // when identity runs elsewhere; its getJwks is open to every service), cached, kept when
    // identity is away. Made at the first call, once the bus routes identity.
    verifyCaller: topology.isSingleProcess ? undefined : lazyCallerVerifier(() => app),
  });
  wiring.declareRouteFlags();
  await app.init(); // modules serve their contracts while initialising, so routes come after
  wiring.routeRemoteContracts();
  await wiring.divertExtractedContracts(database);
  await wiring.start();
  await app.listen(target.http.port, target.http.host);
  // The edge's probes and scrapes on a port of their own; another target's one port is its operations port.
  const operations = target.edge ? await serveOperations(app, target.operations) : undefined;
  // Only now that it serves. A canary does not join as its target: callers reach it through the
  // canary route and its share alone, never through the stable pool.
  if (!options.canary) await discovery?.join();
  return {
    topology,
    target,
    app,
    close: async () => {
      await discovery?.leave(); // callers stop sending here before the server closes
      await operations?.close();
      await app.close();
      await wiring.stop();
      await discovery?.close();
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

/** The topology as the canary of `target` sees it: the target at its canary's ports. */
function asCanary(topology: Topology, target: string): Topology {
  const canary = topology.target(target).canary;
  if (!canary) {
    throw new Error(`target "${target}" has no canary: in ${topology.source} — add canary: { grpc: { port }, http: { port }, percent } to run a second version`);
  }
  return topology.withTarget(target, (deployTarget) => ({
    ...deployTarget,
    grpc: canary.grpc,
    http: canary.http,
    operations: deployTarget.edge ? deployTarget.operations : canary.http,
    canary: undefined,
  }));
}

function lazyCallerVerifier(app: () => NestExpressApplication): (credential: string) => Promise<Caller> {
  let verifier: AccessTokenVerifier | undefined;
  return (credential) => {
    verifier ??= new AccessTokenVerifier(app().get(ContractBus).client(IdentityContract), new RequestContexts());
    return verifier.verify(`Bearer ${credential}`);
  };
}

/** Where a gateway that hosts no module keeps what it stores. */
function edgeDatabaseOf(shared: DatabaseConfig): DatabaseConfig {
  return { ...shared, database: `${process.env.FICUS_DATABASE_PREFIX ?? 'ficus'}_edge` };
}
