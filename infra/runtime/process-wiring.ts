import { Logger, type INestApplication } from '@nestjs/common';
import { Kafka, logLevel } from 'kafkajs';
import type { Contract } from '@contracts/kernel';
import { ContractBus, FicusGrpcStrategy, FicusKafkaStrategy, type EventDelivery } from '@infra/messaging';
import { channelCredentialsOf, GrpcContractServer, GrpcContractTransport, type GrpcTls } from '@infra/messaging/grpc';
import { consumerGroupOf, KafkaEventConsumer } from '@infra/messaging/kafka';
import { KafkaLagCollector, type ConsumedTopics } from '@infra/observability';
import { DEFAULT_REMOTE_POLICY, ResilientTransport, SYSTEM_CLOCK, type RemoteCallPolicy } from '@infra/resilience';
import type { Topology } from '@infra/topology';
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
  /**
   * Mutual TLS for gRPC (FICUS_GRPC_TLS_DIR): this process's certificate on both ends, the CA's
   * on the other, and the topology's `callers` checked against the caller's certificate.
   */
  readonly tls?: GrpcTls;
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
  private readonly clients = new Map<string, GrpcContractTransport>();
  private readonly guarded = new Map<string, ResilientTransport>();
  private readonly peers = new Map<string, GrpcPeerProbe>();
  private readonly readinessChecks: Array<{ forget(): void }> = [];
  private lag?: KafkaLagCollector;

  constructor(
    private readonly app: INestApplication,
    private readonly options: ProcessWiringOptions,
  ) {}

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
      // One client, breaker and bulkhead per remote target: a failing target is held off as a
      // whole, and cannot take the callers of other targets with it.
      let guarded = this.guarded.get(serving.name);
      if (!guarded) {
        const client = new GrpcContractTransport({ address, credentials: this.options.tls && channelCredentialsOf(this.options.tls, serving.name) });
        this.clients.set(address, client);
        guarded = new ResilientTransport(
          serving.name,
          client,
          this.policyFor(serving.name),
          SYSTEM_CLOCK,
          undefined,
          undefined,
          (calledContract, method) => topology.resilience.methods[`${calledContract.context}.${method}`],
        );
        this.guarded.set(serving.name, guarded);
      }
      bus.route(contract, guarded);
      // A peer is a target this process calls, not every target the bus could route to.
      if (called.has(contract) && !this.peers.has(serving.name)) {
        const peer = new GrpcPeerProbe(serving.name, address, undefined, this.options.tls && channelCredentialsOf(this.options.tls, serving.name));
        this.peers.set(serving.name, peer);
        this.readinessChecks.push(this.app.get(ProcessReadiness).add(peer));
      }
    }
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
      if (!this.options.tls && local.some((contract) => topology.callers[contract.context])) {
        this.logger.warn(
          `gRPC without mutual TLS (FICUS_GRPC_TLS_DIR unset): the topology's callers allow-list cannot be checked, and any client on the network can call ${target}`,
        );
      }
      const server = new GrpcContractServer(bus.inProcess, {
        host: '0.0.0.0',
        port: deployTarget.grpc.listenPort,
        tls: this.options.tls,
        authorize: (caller, contract) => topology.mayCall(caller, contract.context),
      });
      local.forEach((contract) => server.expose(contract));
      this.app.connectMicroservice({ strategy: new FicusGrpcStrategy(server) });
    }
    if (kafka) {
      const runtimes = this.app.get(ContextRegistry).all();
      // The broker is this process's own dependency when its contexts publish or consume through
      // it; an edge that hosts no context never uses it after start-up, so it does not report it.
      if (runtimes.length > 0) {
        const probe = new KafkaBrokerProbe({ brokers: topology.kafka.brokers, clientId: `ficus-${target}-readiness` });
        this.readinessChecks.push(this.app.get(ProcessReadiness).add(probe));
      }
      const consumers: KafkaEventConsumer[] = [];
      const groups: ConsumedTopics[] = [];
      for (const runtime of runtimes) {
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
        });
        this.lag = new KafkaLagCollector(metricsClient, groups);
      }
    }
    await this.app.startAllMicroservices();
  }

  /** Closes the gRPC clients, probes and lag reads; the app's close() closes the transporters. */
  stop(): void {
    this.clients.forEach((client) => client.close());
    this.guarded.forEach((transport) => transport.close());
    this.readinessChecks.forEach((check) => check.forget());
    this.peers.forEach((peer) => peer.close());
    void this.lag?.close();
  }
}
