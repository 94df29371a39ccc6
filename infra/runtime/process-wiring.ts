import { Logger, type INestApplication } from '@nestjs/common';
import { Kafka, logLevel } from 'kafkajs';
import type { Caller, Contract } from '@contracts/kernel';
import { ContractBus, FicusGrpcStrategy, FicusKafkaStrategy, WeightedContractTransport, type ContractTransport, type EventDelivery } from '@infra/messaging';
import {
  BalancedContractTransport,
  channelCredentialsOf,
  GrpcContractServer,
  GrpcContractTransport,
  type EndpointSources,
  type GrpcTls,
} from '@infra/messaging/grpc';
import { extractionFlags, aggregateIdOf, shadowFlagOf, shareOf, ShadowingContractTransport, ShadowRecorder, ShadowStore, shiftFlagOf, stickyFlagOf } from '@infra/extraction';
import { defineFlag, FlagDeclarations, Flags } from '@infra/flags';
import { consumerGroupOf, KafkaEventConsumer, type KafkaCredentials } from '@infra/messaging/kafka';
import { KafkaLagCollector, type ConsumedTopics } from '@infra/observability';
import { DEFAULT_REMOTE_POLICY, ResilientTransport, SYSTEM_CLOCK, type RemoteCallPolicy } from '@infra/resilience';
import type { DeployTarget, Topology } from '@infra/topology';
import type { DatabaseConfig } from '@infra/persistence';
import { CalledContracts } from './called-contracts';
import { ContextRegistry } from './context-registry';
import { GrpcPeerProbe } from './grpc-peer.probe';
import { KafkaBrokerProbe } from './kafka-broker.probe';
import { ProcessReadiness } from './process-readiness';

export interface ProcessWiringOptions {
  readonly topology: Topology;
  /** The deploy target this process is. */
  readonly target: string;
  /** Every contract of the system; those served here are exposed, the others are routed. */
  readonly contracts: readonly Contract[];
  /** The broker, when the topology has more than one process. */
  readonly kafka?: Kafka;
  /** Prefix of topic and group names (FICUS_KAFKA_NAMESPACE). */
  readonly kafkaNamespace?: string;
  /** The process's broker credentials, for the clients made here (readiness, lag). */
  readonly kafkaCredentials?: KafkaCredentials;
  /**
   * Mutual TLS for gRPC (FICUS_GRPC_TLS_DIR): this process's certificate on both ends, the CA's
   * on the other, and the topology's `callers` checked against the caller's certificate.
   */
  readonly tls?: GrpcTls;
  /** Where the instances of targets the topology finds through the registry are (ADR 0030). */
  readonly discovery?: EndpointSources;
  /**
   * Who the end user of a served call is, from the access token the edge relays with it
   * (ADR 0031). Unset: served calls have no end user.
   */
  readonly verifyCaller?: (credential: string) => Promise<Caller>;
}

/**
 * Connects one process of a topology to the others, by configuration only: contracts served here
 * are exposed over gRPC at the target's address; contracts served elsewhere are routed to the
 * target that serves them; each context here consumes, from Kafka, the events of contexts that
 * run elsewhere (events of contexts that run here arrive in-process, as in the monolith).
 * Module code sees none of it.
 */
export class ProcessWiring {
  private readonly logger = new Logger('ProcessWiring');
  private readonly clients = new Map<string, { close(): void }>();
  private readonly guarded: ResilientTransport[] = [];
  private readonly routes = new Map<string, ContractTransport>();
  private readonly peers = new Map<string, { close(): void }>();
  private readonly readinessChecks: Array<{ forget(): void }> = [];
  private lag?: KafkaLagCollector;
  private shadowStore?: ShadowStore;
  private shadowRecorder?: ShadowRecorder;

  constructor(
    private readonly app: INestApplication,
    private readonly options: ProcessWiringOptions,
  ) {}

  /**
   * Declares the flag that holds the share of each canary this process calls
   * (`route.<target>.canary`, default the topology's percent), so `ficus flags set` can move
   * traffic at run time: `on` sends every call to the canary, `off` none. Call before app.init().
   */
  declareRouteFlags(): void {
    const { topology, target } = this.options;
    const declarations = this.app.get(FlagDeclarations);
    declarations.add(
      topology.targets
        .filter((serving) => serving.canary && serving.name !== target)
        .map((serving) =>
          defineFlag({
            name: routeFlagOf(serving.name),
            default: serving.canary!.percent,
            description: `share of calls to ${serving.name} that go to its canary (topology default ${serving.canary!.percent} %)`,
          }),
        ),
    );
    for (const { context, extracted } of this.extractionsOwnedHere()) declarations.add(extractionFlags(context, extracted.name));
  }

  /** Contexts this process owns that are being extracted into another target (`ficus extract`). */
  private extractionsOwnedHere(): Array<{ context: string; extracted: DeployTarget }> {
    const { topology, target } = this.options;
    const here = topology.target(target);
    if (here.extractedFrom) return [];
    return here.modules.flatMap((context) => {
      const extracted = topology.extractionOf(context);
      return extracted ? [{ context, extracted }] : [];
    });
  }

  /**
   * The strangler step at run time (ADR 0034): this process's own calls of a context being
   * extracted go in-process or to the extracted copy by the share in `shift.<context>`, sticky
   * per aggregate when `shift.<context>.sticky` is on; while `shadow.<context>` is on, reads
   * served in-process are also asked of the extracted copy and compared. Call after
   * routeRemoteContracts(); `database` holds the shadow results.
   */
  async divertExtractedContracts(database: DatabaseConfig | undefined): Promise<void> {
    const extractions = this.extractionsOwnedHere();
    if (extractions.length === 0) return;
    if (!database) throw new Error('a process that owns contexts being extracted needs its database for the shadow results');
    const bus = this.app.get(ContractBus);
    const flags = this.app.get(Flags);
    this.shadowStore = await ShadowStore.open(database);
    const recorder = (this.shadowRecorder = new ShadowRecorder(this.shadowStore));
    for (const { context, extracted } of extractions) {
      const { host, port } = this.options.topology.addressOf(extracted.name);
      const address = `${host}:${port}`;
      const client = new GrpcContractTransport({ address, credentials: this.options.tls && channelCredentialsOf(this.options.tls, extracted.name) });
      this.clients.set(address, client);
      const remote = this.guard(extracted.name, extracted.name, client);
      // Shadow calls behind a breaker and bulkhead of their own: a burst of them never takes the
      // capacity, nor opens the breaker, of the calls really shifted there.
      const shadow = this.guard(`${extracted.name}-shadow`, extracted.name, client);
      const inProcess = new ShadowingContractTransport(bus.inProcess, shadow, { context, enabled: () => flags.isOn(shadowFlagOf(context)), recorder });
      const route = new WeightedContractTransport({
        target: extracted.name,
        primary: { name: 'in-process', transport: inProcess },
        secondary: { name: 'extracted', transport: remote },
        percent: () => shareOf(flags.state(shiftFlagOf(context))),
        stickyPerCaller: false,
        stickyKey: (_ctx, request) => (flags.isOn(stickyFlagOf(context)) ? aggregateIdOf(request) : undefined),
      });
      for (const contract of this.options.contracts.filter((c) => c.context === context)) bus.divert(contract, route);
      this.logger.log(`${context} is being extracted into ${extracted.name}: calls shifted by flag ${shiftFlagOf(context)}, shadowed by ${shadowFlagOf(context)}`);
    }
  }

  /** Routes contracts that run elsewhere. Call after the app initialised, before it takes traffic. */
  routeRemoteContracts(): void {
    const { topology, target, contracts } = this.options;
    const bus = this.app.get(ContractBus);
    const called = this.app.get(CalledContracts);
    for (const contract of contracts) {
      if (bus.inProcess.serves(contract)) continue;
      const serving = topology.targetOf(contract.context);
      if (serving.name === target) {
        throw new Error(`${contract.name}: its module ${contract.context} runs in ${target} but does not serve it`);
      }
      const { host, port } = topology.addressOf(serving.name);
      const address = `${host}:${port}`;
      const discovered = topology.discoveryOf(serving.name) === 'registry';
      // One client, breaker and bulkhead per remote target: a failing target is held off as a
      // whole, and cannot take the callers of other targets with it.
      let route = this.routes.get(serving.name);
      if (!route) {
        const credentials = this.options.tls && channelCredentialsOf(this.options.tls, serving.name);
        // A registry-discovered target: a channel per live instance, balanced (ADR 0030).
        const client = discovered
          ? new BalancedContractTransport({
              target: serving.name,
              source: this.requireDiscovery(serving.name).sourceOf(serving.name),
              connect: (endpoint) => new GrpcContractTransport({ address: endpoint.address, credentials }),
            })
          : new GrpcContractTransport({ address, credentials });
        this.clients.set(discovered ? `registry:${serving.name}` : address, client);
        route = this.guard(serving.name, serving.name, client);
        // A second version of the target beside the first takes its share of the calls, each
        // version behind a breaker of its own (ADR 0032).
        const canary = serving.canary;
        if (canary) {
          const flags = this.app.get(Flags);
          const flag = routeFlagOf(serving.name);
          const canaryAddress = `${canary.grpc.host}:${canary.grpc.port}`;
          const canaryClient = new GrpcContractTransport({ address: canaryAddress, credentials });
          this.clients.set(canaryAddress, canaryClient);
          route = new WeightedContractTransport({
            target: serving.name,
            primary: { name: 'stable', transport: route },
            secondary: { name: 'canary', transport: this.guard(`${serving.name}-canary`, serving.name, canaryClient) },
            percent: () => shareOf(flags.state(flag)),
            stickyPerCaller: canary.sticky === 'caller',
          });
        }
        this.routes.set(serving.name, route);
      }
      bus.route(contract, route);
      // A peer is a target this process calls, not every target the bus could route to.
      if (called.has(contract) && !this.peers.has(serving.name)) {
        const balanced = this.clients.get(`registry:${serving.name}`);
        // A discovered target's balancer reports its instances itself; one address says little there.
        const peer =
          balanced instanceof BalancedContractTransport
            ? balanced
            : new GrpcPeerProbe(serving.name, address, undefined, this.options.tls && channelCredentialsOf(this.options.tls, serving.name));
        this.peers.set(serving.name, peer);
        this.readinessChecks.push(this.app.get(ProcessReadiness).add(peer));
      }
    }
  }

  private requireDiscovery(target: string): EndpointSources {
    if (!this.options.discovery) {
      throw new Error(`${target} is found through the registry (topology discovery: registry), but this process has no registry watcher`);
    }
    return this.options.discovery;
  }

  /** Breaker, bulkhead, retries and deadlines around one client of a target (`name` labels its metrics). */
  private guard(name: string, target: string, client: ContractTransport): ResilientTransport {
    const { topology } = this.options;
    const guarded = new ResilientTransport({ target: name, inner: client, policy: this.policyFor(target), clock: SYSTEM_CLOCK, methodPolicyOf: (calledContract, method) => topology.resilience.methods[`${calledContract.context}.${method}`] });
    this.guarded.push(guarded);
    return guarded;
  }

  /** ficus's defaults, then the topology's defaults, then what it says of calls to `target`. */
  private policyFor(target: string): RemoteCallPolicy {
    const { defaults, targets } = this.options.topology.resilience;
    const forTarget = targets[target] ?? {};
    return {
      ...DEFAULT_REMOTE_POLICY,
      retries: defaults.retries ?? DEFAULT_REMOTE_POLICY.retries,
      backoff: defaults.backoff ?? DEFAULT_REMOTE_POLICY.backoff,
      bulkhead: forTarget.bulkhead ?? defaults.bulkhead ?? DEFAULT_REMOTE_POLICY.bulkhead,
      breaker: { ...DEFAULT_REMOTE_POLICY.breaker, ...defaults.breaker, ...forTarget.breaker },
    };
  }

  /**
   * Serves this process's contracts over gRPC and consumes remote events, both as Nest custom
   * transporters of the app, started now and closed with it.
   */
  async start(): Promise<void> {
    const { topology, target, contracts, kafka } = this.options;
    const bus = this.app.get(ContractBus);
    const local = contracts.filter((contract) => bus.inProcess.serves(contract));
    const deployTarget = topology.target(target);
    if (local.length > 0 && deployTarget.grpc && !topology.isSingleProcess) {
      // Without TLS only by name (FICUS_GRPC_PLAINTEXT=loopback, checked by runTarget): no
      // certificate names the caller, so only this machine may reach the server at all.
      if (!this.options.tls) {
        this.logger.warn(
          `gRPC in plain text on 127.0.0.1 (FICUS_GRPC_PLAINTEXT=loopback): the topology's callers allow-list cannot be checked; any process on this machine can call ${target}`,
        );
      }
      const server = new GrpcContractServer(bus.inProcess, {
        host: this.options.tls ? '0.0.0.0' : '127.0.0.1',
        port: deployTarget.grpc.listenPort,
        tls: this.options.tls,
        authorize: (caller, contract, method) =>
          topology.mayCall(caller, contract.context) || (contract.methods[method]?.kind === 'unary' && contract.methods[method].openToServices === true && topology.knows(caller)),
        vouch: (caller, service) => topology.hosts(caller, service),
        verifyCaller: this.options.verifyCaller,
      });
      local.forEach((contract) => server.expose(contract));
      this.app.connectMicroservice({ strategy: new FicusGrpcStrategy(server) });
    }
    if (kafka) {
      const runtimes = this.app.get(ContextRegistry).all();
      // The broker is this process's own dependency when its contexts publish or consume through
      // it; an edge that hosts no context never uses it after start-up, so it does not report it.
      if (runtimes.length > 0) {
        const probe = new KafkaBrokerProbe({
          brokers: topology.kafka.brokers,
          clientId: `ficus-${target}-readiness`,
          credentials: this.options.kafkaCredentials,
        });
        this.readinessChecks.push(this.app.get(ProcessReadiness).add(probe));
      }
      const consumers: KafkaEventConsumer[] = [];
      const groups: ConsumedTopics[] = [];
      for (const runtime of runtimes) {
        if (runtime.servesCallsOnly) continue; // its owner consumes its events while it is extracted
        const remote: EventDelivery[] = runtime
          .inboxConsumers()
          .filter((consumer) => topology.targetOf(consumer.definition.context).name !== target);
        if (remote.length === 0) continue;
        const consumer = new KafkaEventConsumer(kafka, {
          context: runtime.context,
          deliveries: remote,
          namespace: this.options.kafkaNamespace,
        });
        consumers.push(consumer);
        groups.push({ group: consumerGroupOf(runtime.context, this.options.kafkaNamespace), topics: consumer.topics() });
        this.logger.log(`${runtime.context} consumes ${consumer.topics().join(', ')}`);
      }
      if (consumers.length > 0) {
        this.app.connectMicroservice({ strategy: new FicusKafkaStrategy(consumers) });
        // A client of its own, without kafkajs's retries: a scrape gives up at once when the broker
        // is away, rather than leaving a connection retrying for half a minute behind every scrape.
        const metricsClient = new Kafka({
          clientId: `ficus-${target}-metrics`,
          brokers: [...topology.kafka.brokers],
          connectionTimeout: 1_000,
          requestTimeout: 2_000,
          retry: { retries: 0 },
          logLevel: logLevel.NOTHING,
          ...this.options.kafkaCredentials,
        });
        this.lag = new KafkaLagCollector(metricsClient, groups);
      }
    }
    await this.app.startAllMicroservices();
  }

  /** Closes the gRPC clients, probes and lag reads; the app's close() closes the transporters. */
  async stop(): Promise<void> {
    // Shadow comparisons under way finish and their counts are written before the clients close.
    await this.shadowRecorder?.close();
    await this.shadowStore?.close();
    this.clients.forEach((client) => client.close());
    this.guarded.forEach((transport) => transport.close());
    this.readinessChecks.forEach((check) => check.forget());
    this.peers.forEach((peer) => peer.close());
    void this.lag?.close();
  }
}

/** The flag that holds the share of calls a target's canary takes. */
export function routeFlagOf(target: string): string {
  return `route.${target}.canary`;
}
