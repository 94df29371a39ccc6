import { Logger, type INestApplication } from '@nestjs/common';
import type { Contract } from '@contracts/kernel';
import {
  aggregateIdOf,
  extractionFlags,
  shadowFlagOf,
  shareOf,
  ShadowingContractTransport,
  ShadowRecorder,
  ShadowStore,
  shiftFlagOf,
  stickyFlagOf,
} from '@infra/extraction';
import { FlagDeclarations, Flags } from '@infra/flags';
import { ContractBus, WeightedContractTransport } from '@infra/messaging';
import { channelCredentialsOf, GrpcContractTransport, type GrpcTls } from '@infra/messaging/grpc';
import type { DatabaseConfig } from '@infra/persistence';
import type { DeployTarget, Topology } from '@infra/topology';
import type { RemoteClients } from './remote-clients';

export interface ExtractionDiversionOptions {
  readonly topology: Topology;
  /** The deploy target this process is. */
  readonly target: string;
  readonly contracts: readonly Contract[];
  readonly clients: RemoteClients;
  readonly tls?: GrpcTls;
}

/**
 * The strangler step at run time (ADR 0034), in the process that owns a context being extracted:
 * its own calls of that context go in-process or to the extracted copy by the share in
 * `shift.<context>`, sticky per aggregate when `shift.<context>.sticky` is on; while
 * `shadow.<context>` is on, reads served in-process are also asked of the extracted copy and
 * compared, the results kept in the process's database.
 */
export class ExtractionDiversion {
  private readonly logger = new Logger('ExtractionDiversion');
  private shadowStore?: ShadowStore;
  private shadowRecorder?: ShadowRecorder;

  constructor(
    private readonly app: INestApplication,
    private readonly options: ExtractionDiversionOptions,
  ) {}

  /** Declares the shift, sticky and shadow flags of each extraction. Call before app.init(). */
  declareFlags(): void {
    const declarations = this.app.get(FlagDeclarations);
    for (const { context, extracted } of this.extractionsOwnedHere())
      declarations.add(extractionFlags(context, extracted.name));
  }

  /** Call after the remote routes; `database` holds the shadow results. */
  async divert(database: DatabaseConfig | undefined): Promise<void> {
    const extractions = this.extractionsOwnedHere();
    if (extractions.length === 0) return;
    if (!database)
      throw new Error('a process that owns contexts being extracted needs its database for the shadow results');
    const { topology, clients, tls, contracts } = this.options;
    const bus = this.app.get(ContractBus);
    const flags = this.app.get(Flags);
    this.shadowStore = await ShadowStore.open(database);
    const recorder = (this.shadowRecorder = new ShadowRecorder(this.shadowStore));
    for (const { context, extracted } of extractions) {
      const { host, port } = topology.addressOf(extracted.name);
      const address = `${host}:${port}`;
      const client = clients.keep(
        address,
        new GrpcContractTransport({ address, credentials: tls && channelCredentialsOf(tls, extracted.name) }),
      );
      const remote = clients.guard(extracted.name, extracted.name, client);
      // Shadow calls behind a breaker and bulkhead of their own: a burst of them never takes the
      // capacity, nor opens the breaker, of the calls really shifted there.
      const shadow = clients.guard(`${extracted.name}-shadow`, extracted.name, client);
      const inProcess = new ShadowingContractTransport(bus.inProcess, shadow, {
        context,
        enabled: () => flags.isOn(shadowFlagOf(context)),
        recorder,
      });
      const route = new WeightedContractTransport({
        target: extracted.name,
        primary: { name: 'in-process', transport: inProcess },
        secondary: { name: 'extracted', transport: remote },
        percent: () => shareOf(flags.state(shiftFlagOf(context))),
        stickyPerCaller: false,
        stickyKey: (_ctx, contract, method, request) =>
          flags.isOn(stickyFlagOf(context)) ? aggregateIdOf(contract, method, request) : undefined,
      });
      for (const contract of contracts.filter((c) => c.context === context)) bus.divert(contract, route);
      this.logger.log(
        `${context} is being extracted into ${extracted.name}: calls shifted by flag ${shiftFlagOf(context)}, ` +
          `shadowed by ${shadowFlagOf(context)}`,
      );
    }
  }

  /** Shadow comparisons under way finish and their counts are written. */
  async stop(): Promise<void> {
    await this.shadowRecorder?.close();
    await this.shadowStore?.close();
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
}
