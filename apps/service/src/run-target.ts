import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Kafka, logLevel } from 'kafkajs';
import { Logger } from 'nestjs-pino';
import type { Logger as PinoLogger } from 'pino';
import {
  AccessTokenVerifier,
  checkPublicUrlForLegacy,
  drainOnStop,
  httpEdgeAdapter,
  HttpSettings,
  legacyUpstreamOf,
  OPERATIONS_PROBES,
  PUBLIC_PROBES,
  serveOperations,
  setUpHttpEdge,
} from '@apps/http-edge';
import { ALL_CONTRACTS, ALL_SUBGRAPH_CONTRACTS } from '@contracts/contexts';
import { BOUNDED_CONTEXTS, type Caller } from '@contracts/kernel';
import {
  InstanceSettingsGroup,
  registryDatabaseName,
  startProcessDiscovery,
  withInstancePorts,
} from '@infra/discovery';
import { loadGrpcTls } from '@infra/messaging/grpc';
import { KafkaCredentialSettings, KafkaEventPublisher, ensureTopics, kafkaSocketFactory } from '@infra/messaging/kafka';
import type { DatabaseConfig } from '@infra/persistence';
import { ProcessSettings, ProcessWiring, resolveDatabase } from '@infra/host';
import { loadTopology, type DeployTarget, type Topology } from '@infra/topology';
import { moduleOf } from './module-catalogue';
import { readConfiguration } from './process-settings';
import { ServiceModule } from './service.module';

export interface RunningTarget {
  readonly topology: Topology;
  readonly target: DeployTarget;
  readonly app: NestExpressApplication;
  /** Where its HTTP listener answers (the public API on the edge), with the port it really took. */
  readonly url: string;
  /** Where /health, /ready and /metrics answer: the edge's operations port, another target's one port. */
  readonly operationsUrl: string;
  close(): Promise<void>;
}

export interface RunTargetOptions {
  /** A topology file, or one already loaded (a test places it on ports of its own). */
  readonly topology: string | Topology;
  /** The deploy target to run; a topology of one target needs none. */
  readonly target?: string;
  readonly log: PinoLogger;
  readonly instance?: string;
  /** Run the target's second version, on the ports its `canary:` names (ADR 0032). */
  readonly canary?: boolean;
  /**
   * The server the target's databases live on. Unset: DATABASE_URL, or the embedded PostgreSQL
   * (started here, stopped on close).
   */
  readonly database?: DatabaseConfig;
  /** The environment the process reads its configuration from, once, first; `process.env` unless given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Starts one deploy target of a topology: its modules (or the public API, for the edge), its
 * database, its gRPC server and routes to the others, its Kafka consumers. The same code for
 * every target and every topology, the monolith's one process included; only the YAML differs.
 */
export async function runTarget(options: RunTargetOptions): Promise<RunningTarget> {
  const loaded = typeof options.topology === 'string' ? loadTopology(options.topology) : options.topology;
  const targetName = options.target ?? onlyTargetOf(loaded);
  // Every setting the process reads, read now: a bad value stops it here, before anything starts.
  const configuration = readConfiguration(loaded.target(targetName), options.env ?? process.env, options.instance);
  checkPublicUrlForLegacy(configuration, loaded.target(targetName));
  const env = configuration.get(ProcessSettings);
  // A second instance of a target runs on ports of its own (FICUS_GRPC_PORT, FICUS_HTTP_PORT).
  const instance = configuration.get(InstanceSettingsGroup);
  const topology = withInstancePorts(options.canary ? asCanary(loaded, targetName) : loaded, targetName, instance);
  const target = topology.target(targetName);
  if (!topology.isSingleProcess && !env.FICUS_GRPC_TLS_DIR && env.FICUS_GRPC_PLAINTEXT !== 'loopback') {
    throw new Error(
      `${target.name}: gRPC between processes needs mutual TLS. Set FICUS_GRPC_TLS_DIR to the certificates ` +
        `(\`npm run certs\` makes them), ` +
        'or FICUS_GRPC_PLAINTEXT=loopback to try the split shop on one machine (plain text, served on 127.0.0.1 only)',
    );
  }
  const modules = target.modules.map(moduleOf);

  let database: DatabaseConfig | undefined;
  let stopDatabase = async () => undefined as void;
  // The bare edge stores its rate-limit counters (ADR 0022) in a database of its own, which every
  // gateway replica shares: <prefix>_edge on the shared server, or DATABASE_URL_EDGE.
  if (target.modules.length > 0 || target.edge) {
    const resolved = options.database
      ? { config: options.database, stop: async () => undefined }
      : await resolveDatabase(env, (line) => options.log.debug({ component: 'embedded-postgres' }, line));
    database =
      target.modules.length > 0
        ? databaseOf(target, resolved.config)
        : { ...resolved.config, database: `${env.FICUS_DATABASE_PREFIX}_edge` };
    stopDatabase = resolved.stop;
  }

  // The registry, when the topology finds any target through it (ADR 0030); nothing otherwise.
  const discovery = await startProcessDiscovery({
    topology,
    target: target.name,
    database,
    instance,
    registryDatabase: registryDatabaseName(env.FICUS_DATABASE_PREFIX),
  });

  const kafkaCredentials = configuration.get(KafkaCredentialSettings);
  // No broker in a topology whose only other target is an extraction in progress: no event leaves.
  const kafka =
    topology.isSingleProcess || topology.kafka.brokers.length === 0
      ? undefined
      : new Kafka({
          clientId: `ficus-${target.name}`,
          brokers: [...topology.kafka.brokers],
          logLevel: logLevel.ERROR,
          socketFactory: kafkaSocketFactory,
          ...kafkaCredentials,
        });
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
      root: {
        configuration,
        database,
        remotePublisher: publisher,
        callsOnly: target.extractedFrom ? target.modules : [],
      },
    }),
    httpEdgeAdapter(),
    { bodyParser: false, bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  // An edge's port is the public API's (its operations port is apart); a service's one port is its operations port.
  setUpHttpEdge(app, {
    legacy: legacyUpstreamOf(target, configuration.get(HttpSettings)),
    probes: target.edge ? PUBLIC_PROBES : OPERATIONS_PROBES,
  });
  const drainHttp = drainOnStop(app.getHttpServer());
  const wiring = new ProcessWiring(app, {
    topology,
    target: target.name,
    contracts: [...ALL_CONTRACTS, ...ALL_SUBGRAPH_CONTRACTS],
    kafka,
    kafkaNamespace: env.FICUS_KAFKA_NAMESPACE,
    kafkaCredentials,
    discovery: discovery?.watcher,
    tls:
      env.FICUS_GRPC_TLS_DIR && !topology.isSingleProcess
        ? loadGrpcTls(env.FICUS_GRPC_TLS_DIR, target.name)
        : undefined,
    // The end user of a served call, from the token the edge relays (ADR 0031): verified as the
    // edge verifies it, against identity's keys fetched through the identity contract (over mTLS
    // when identity runs elsewhere; its getJwks is open to every service), cached, kept when
    // identity is away. Made at the first call, once the bus routes identity.
    verifyCaller: topology.isSingleProcess ? undefined : lazyCallerVerifier(() => app),
  });
  /** What runTarget started besides the app, stopped after it, in that order. */
  const stopAfterApp = async () => {
    await wiring.stop();
    await discovery?.close();
    await publisher?.close();
    await stopDatabase();
  };
  // A start that fails half-way (a bootstrap hook refusing, a port taken) leaves nothing running.
  let operations: Awaited<ReturnType<typeof serveOperations>> | undefined;
  try {
    wiring.declareFlags();
    await app.init(); // modules serve their contracts while initialising, so routes come after
    wiring.routeRemoteContracts();
    await wiring.divertExtractedContracts(database);
    await wiring.start();
    // A client has 10 s for its headers and 30 s for its whole request (Node's defaults: 60 s and
    // 300 s): a slow sender holds its socket that long (the edge reads a body before it admits it).
    Object.assign(app.getHttpServer(), { headersTimeout: 10_000, requestTimeout: 30_000 });
    await app.listen(target.http.port, target.http.host);
    // The edge's probes and scrapes on a port of their own; another target's one port is its operations port.
    operations = target.edge ? await serveOperations(app, target.operations) : undefined;
  } catch (error) {
    await app.close().catch(() => undefined);
    await stopAfterApp();
    throw error;
  }
  const url = urlOf(app.getHttpServer().address() as AddressInfo);
  // Only now that it serves. A canary does not join as its target: callers reach it through the
  // canary route and its share alone, never through the stable pool.
  if (!options.canary) await discovery?.join();
  return {
    topology,
    target,
    app,
    url,
    operationsUrl: operations?.url ?? url,
    close: async () => {
      await discovery?.leave(); // callers stop sending here before the server closes
      await operations?.close();
      drainHttp(); // keep-alive clients would otherwise hold app.close() open
      await app.close();
      await stopAfterApp();
    },
  };
}

/** The one target of a topology that has one; with more, the caller must say which. */
function onlyTargetOf(topology: Topology): string {
  const [only, ...others] = topology.targets;
  if (!only || others.length > 0) {
    throw new Error(
      `${topology.source} has ${topology.targets.length} targets ` +
        `(${topology.targets.map((t) => t.name).join(', ')}): say which one to run (--target)`,
    );
  }
  return only.name;
}

/** A listener's address as a URL callers on this machine can use (a wildcard bind is reached on loopback). */
function urlOf(address: AddressInfo): string {
  const host =
    address.address === '0.0.0.0' || address.address === '::'
      ? '127.0.0.1'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
  return `http://${host}:${address.port}`;
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
    throw new Error(
      `target "${target}" has no canary: in ${topology.source} — add canary: { grpc: { port }, http: { port }, ` +
        `percent } to run a second version`,
    );
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
    // The process's own (HttpEdgeModule's, or HealthModule's): one cache of verified tokens and keys.
    const verifying = (verifier ??= app().get<AccessTokenVerifier>(AccessTokenVerifier, { strict: false }));
    return verifying.verify(`Bearer ${credential}`);
  };
}
