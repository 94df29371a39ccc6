import type { INestApplication } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Caller, Contract } from '@contracts/kernel';
import type { EndpointSources, GrpcTls } from '@infra/messaging/grpc';
import type { KafkaCredentials } from '@infra/messaging/kafka';
import type { DatabaseConfig } from '@infra/persistence';
import type { Topology } from '@infra/topology';
import { ExtractionDiversion } from './extraction-diversion';
import { RemoteClients } from './remote-clients';
import { RemoteRoutes } from './remote-routes';
import { TransportServers } from './transport-servers';

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
 * Connects one process of a topology to the others, by configuration only, in three parts:
 * routes to the contracts served elsewhere (RemoteRoutes), the strangler step's diversion of
 * calls to a context being extracted (ExtractionDiversion), and the servers other processes reach
 * this one through (TransportServers). Module code sees none of it. In a topology of one process
 * every part finds nothing to do.
 */
export class ProcessWiring {
  private readonly clients: RemoteClients;
  private readonly routes: RemoteRoutes;
  private readonly extraction: ExtractionDiversion;
  private readonly servers: TransportServers;

  constructor(app: INestApplication, options: ProcessWiringOptions) {
    this.clients = new RemoteClients(options.topology);
    const shared = { ...options, clients: this.clients };
    this.routes = new RemoteRoutes(app, shared);
    this.extraction = new ExtractionDiversion(app, shared);
    this.servers = new TransportServers(app, options);
  }

  /** The flags of canary shares and extractions this process steers by. Call before app.init(). */
  declareFlags(): void {
    this.routes.declareFlags();
    this.extraction.declareFlags();
  }

  /** Routes contracts that run elsewhere. Call after the app initialised, before it takes traffic. */
  routeRemoteContracts(): void {
    this.routes.route();
  }

  /** See ExtractionDiversion; call after routeRemoteContracts(). */
  divertExtractedContracts(database: DatabaseConfig | undefined): Promise<void> {
    return this.extraction.divert(database);
  }

  start(): Promise<void> {
    return this.servers.start();
  }

  /** Closes the clients, probes and lag reads; the app's close() closes the transporters. */
  async stop(): Promise<void> {
    // Shadow comparisons under way finish and their counts are written before the clients close.
    await this.extraction.stop();
    this.clients.close();
    this.routes.stop();
    this.servers.stop();
  }
}
