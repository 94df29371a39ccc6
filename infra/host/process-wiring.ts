import type { INestApplication } from '@nestjs/common';
import type { EndpointSources } from '@infra/messaging/grpc';
import type { DatabaseConfig } from '@infra/persistence';
import { ExtractionDiversion } from './extraction-diversion';
import { RemoteClients } from './remote-clients';
import { RemoteRoutes } from './remote-routes';
import { TransportServers, type TransportServersOptions } from './transport-servers';

/** What connects a process: what its transport servers need, and where discovered targets are. */
export interface ProcessWiringOptions extends TransportServersOptions {
  /** Where the instances of targets the topology finds through the registry are (ADR 0030). */
  readonly discovery?: EndpointSources;
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
