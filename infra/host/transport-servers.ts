import { Logger, type INestApplication } from '@nestjs/common';
import { Kafka, logLevel } from 'kafkajs';
import type { Caller, Contract } from '@contracts/kernel';
import { ContractBus, FicusGrpcStrategy, FicusKafkaStrategy, type EventDelivery } from '@infra/messaging';
import { GrpcContractServer, type GrpcTls } from '@infra/messaging/grpc';
import { KafkaEventConsumer, type KafkaCredentials } from '@infra/messaging/kafka';
import { KafkaLagCollector, type ConsumedTopics } from '@infra/observability';
import { ContextRegistry, ProcessReadiness } from '@infra/runtime';
import type { Topology } from '@infra/topology';
import { KafkaBrokerProbe } from './kafka-broker.probe';

export interface TransportServersOptions {
  readonly topology: Topology;
  /** The deploy target this process is. */
  readonly target: string;
  readonly contracts: readonly Contract[];
  /** The broker, when the topology has more than one process. */
  readonly kafka?: Kafka;
  /** Prefix of topic and group names (FICUS_KAFKA_NAMESPACE). */
  readonly kafkaNamespace?: string;
  /** The process's broker credentials, for the clients made here (readiness, lag). */
  readonly kafkaCredentials?: KafkaCredentials;
  /** Mutual TLS: this process's certificate on both ends, the CA's on the other, the topology's `callers` checked. */
  readonly tls?: GrpcTls;
  /** Who the end user of a served call is, from the access token the edge relays with it (ADR 0031). */
  readonly verifyCaller?: (credential: string) => Promise<Caller>;
}

/**
 * What other processes reach this one through, as Nest custom transporters of the app: the gRPC
 * server of the contracts served here, and the Kafka consumers of the events of contexts that
 * run elsewhere (events of contexts that run here arrive in-process, as in the monolith), with
 * the broker in its readiness and the consumers' lag in its metrics.
 */
export class TransportServers {
  private readonly logger = new Logger('TransportServers');
  private readonly readinessChecks: Array<{ forget(): void }> = [];
  private lag?: KafkaLagCollector;

  constructor(
    private readonly app: INestApplication,
    private readonly options: TransportServersOptions,
  ) {}

  /** Started now and closed with the app. */
  async start(): Promise<void> {
    this.serveGrpc();
    this.consumeKafka();
    await this.app.startAllMicroservices();
  }

  /** Closes the readiness checks and lag reads; the app's close() closes the transporters. */
  stop(): void {
    this.readinessChecks.forEach((check) => check.forget());
    void this.lag?.close();
  }

  private serveGrpc(): void {
    const { topology, target, contracts, tls } = this.options;
    const bus = this.app.get(ContractBus);
    const local = contracts.filter((contract) => bus.inProcess.serves(contract));
    const deployTarget = topology.target(target);
    if (local.length === 0 || !deployTarget.grpc || topology.isSingleProcess) return;
    // Without TLS only by name (FICUS_GRPC_PLAINTEXT=loopback, checked by runTarget): no
    // certificate names the caller, so only this machine may reach the server at all.
    if (!tls) {
      this.logger.warn(
        `gRPC in plain text on 127.0.0.1 (FICUS_GRPC_PLAINTEXT=loopback): the topology's callers allow-list ` +
          `cannot be checked; any process on this machine can call ${target}`,
      );
    }
    const server = new GrpcContractServer(bus.inProcess, {
      host: tls ? '0.0.0.0' : '127.0.0.1',
      port: deployTarget.grpc.listenPort,
      tls,
      authorize: (caller, contract, method) =>
        topology.mayCall(caller, contract.context) ||
        (contract.methods[method]?.kind === 'unary' &&
          contract.methods[method].openToServices === true &&
          topology.knows(caller)),
      vouch: (caller, service) => topology.hosts(caller, service),
      verifyCaller: this.options.verifyCaller,
    });
    local.forEach((contract) => server.expose(contract));
    this.app.connectMicroservice({ strategy: new FicusGrpcStrategy(server) });
  }

  private consumeKafka(): void {
    const { topology, target, kafka } = this.options;
    if (!kafka) return;
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
      groups.push({ group: consumer.group, topics: consumer.topics() });
      this.readinessChecks.push(
        this.app.get(ProcessReadiness).add({
          name: `kafka-consumer:${runtime.context}`,
          gatesReadiness: true,
          check: () => Promise.resolve(consumer.health()),
        }),
      );
      this.logger.log(`${runtime.context} consumes ${consumer.topics().join(', ')}`);
    }
    if (consumers.length === 0) return;
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
