import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { BoundedContext, CallingService, Contract, EventDefinition } from '@contracts/kernel';
import { Configuration, RunModeSettings, type Settings } from '@infra/config';
import { FlagsModule, FlagsSettings } from '@infra/flags';
import {
  ContractBus,
  DEFAULT_CONSUMER_RETRY,
  InProcessEventTransport,
  Outbox,
  type ConsumerRetryOptions,
  type EventPublisher,
} from '@infra/messaging';
import {
  openModuleDataSource,
  provisionContext,
  UnitOfWork,
  DeadLetterReplayedBy1764000000001,
  messagingTablesMigration,
  type DatabaseConfig,
  type EntityClass,
  type MigrationClass,
} from '@infra/persistence';
import { DataSource } from 'typeorm';
import { CalledContracts } from './called-contracts';
import { ContextRegistry } from './context-registry';
import { ContextRuntime, type ContextOutboxOptions } from './context-runtime';
import { ContextWiring, type Consumption, type Consumptions, type Serving } from './context-wiring';
import { ProcessReadiness } from './process-readiness';

export interface FicusRootOptions {
  /**
   * The process's configuration, read once at start-up from every group the process hosts
   * (each context's `settings`, the edge's, the host's); each context's groups are injectable
   * by their tokens.
   */
  readonly configuration: Configuration;
  /** Absent only in a process that hosts no context (the gateway). */
  readonly database?: DatabaseConfig;
  readonly consumerRetry?: ConsumerRetryOptions;
  /**
   * Where events go besides this process's own subscribers: a broker, when other processes
   * consume them (split and hybrid topologies). Absent in a single process.
   */
  readonly remotePublisher?: EventPublisher;
  /**
   * Contexts this process runs only to serve the calls shifted to it while they are extracted
   * (`extractedFrom` in the topology): no outbox relay, no consumers; their owner keeps both.
   */
  readonly callsOnly?: readonly string[];
}

export interface FicusContextOptions<
  C extends Contract = Contract,
  T extends readonly EventDefinition[] = readonly EventDefinition[],
> {
  readonly context: BoundedContext;
  readonly entities: readonly EntityClass[];
  readonly migrations: readonly MigrationClass[];
  /** Contracts of other contexts this one calls; each becomes injectable by its token. */
  readonly uses?: readonly Contract[];
  /** Defaults to the standard `outbox` table that every context gets. */
  readonly outbox?: ContextOutboxOptions;
  /** The context's own contract, and the provider of its module that implements it. */
  readonly serves?: Serving<C>;
  /**
   * The events it consumes, each with the provider of its module that handles it (one handler a
   * file, `<what>-on-<event>.handler.ts`): `[[StockReserved, ChargePaymentOnStockReserved], …]`.
   * Read by the runtime, which makes an inbox consumer for each, and by `ficus graph`.
   */
  readonly consumes?: Consumptions<T>;
  /**
   * The groups of environment variables the context reads (`defineSettings`), each injectable by
   * its `token`. The host reads them with everything else at start-up, so a bad value stops the
   * process before it starts, listed with every other.
   */
  readonly settings?: readonly Settings<unknown>[];
}

export const FICUS_ROOT_OPTIONS = Symbol('FICUS_ROOT_OPTIONS');

const DECLARED = new Map<BoundedContext, FicusContextOptions>();

/**
 * What each context module loaded so far declared in `forContext` (what it serves, consumes and
 * uses), by context: for checks and tools that read the declarations rather than the source.
 */
export function declaredContexts(): ReadonlyMap<BoundedContext, FicusContextOptions> {
  return DECLARED;
}

/** Each group's value, injectable by its token, from the process's configuration. */
export function settingsProviders(groups: readonly Settings<unknown>[]): Provider[] {
  return groups.map((settings) => ({
    provide: settings.token,
    useFactory: (configuration: Configuration) => configuration.get(settings),
    inject: [Configuration],
  }));
}

/** The groups of settings every process reads, whatever it hosts. */
export const ROOT_SETTINGS: readonly Settings<unknown>[] = [FlagsSettings, RunModeSettings];

/**
 * The groups of settings a process that runs `contexts` reads: {@link ROOT_SETTINGS} and each
 * context's own, as its module declared them (the module must be loaded).
 */
export function settingsOf(contexts: Iterable<string>): Settings<unknown>[] {
  const groups = [...ROOT_SETTINGS];
  for (const context of contexts) {
    const declared = DECLARED.get(context as BoundedContext);
    if (!declared) throw new Error(`${context}: its module is not loaded, so its settings are not known`);
    groups.push(...(declared.settings ?? []));
  }
  return groups;
}

/** Clients of contracts for the service `from`, injectable by each contract's token. */
export function contractClientProviders(contracts: readonly Contract[], from: CallingService): Provider[] {
  return contracts.map((contract) => ({
    provide: contract.token,
    useFactory: (bus: ContractBus, called: CalledContracts) => {
      called.record(contract);
      return bus.client(contract, from);
    },
    inject: [ContractBus, CalledContracts],
  }));
}

/**
 * The process: the contract bus, the in-process event transport and the registry of contexts.
 * An app imports `FicusModule.forRoot()` once; each bounded-context module imports
 * `FicusModule.forContext()` for its own data source, unit of work, outbox and contract clients.
 */
@Global()
@Module({})
export class FicusModule {
  static forRoot(options: FicusRootOptions): DynamicModule {
    return {
      module: FicusModule,
      global: true,
      // Feature flags (ADR 0028) live in the process's own database, so every process has them.
      imports: [
        FlagsModule.forRoot({
          database: options.database,
          refreshMs: options.configuration.get(FlagsSettings).refreshMs,
        }),
      ],
      providers: [
        { provide: FICUS_ROOT_OPTIONS, useValue: options },
        { provide: Configuration, useValue: options.configuration },
        ContractBus,
        { provide: InProcessEventTransport, useFactory: () => new InProcessEventTransport() },
        ContextRegistry,
        ProcessReadiness,
        CalledContracts,
      ],
      exports: [
        FICUS_ROOT_OPTIONS,
        Configuration,
        ContractBus,
        InProcessEventTransport,
        ContextRegistry,
        ProcessReadiness,
        CalledContracts,
      ],
    };
  }

  static forContext<C extends Contract, const T extends readonly EventDefinition[]>(
    options: FicusContextOptions<C, T>,
  ): DynamicModule {
    DECLARED.set(options.context, options as unknown as FicusContextOptions);
    const usesStandardOutbox = options.outbox === undefined;
    const outbox = options.outbox ?? { table: 'outbox' };
    return {
      module: FicusContextModule,
      providers: [
        {
          provide: ContextRuntime,
          useFactory: async (
            root: FicusRootOptions,
            bus: ContractBus,
            events: InProcessEventTransport,
            registry: ContextRegistry,
          ) => {
            if (!root.database) {
              throw new Error(`${options.context} runs in this process, but the process was given no database`);
            }
            const url = await provisionContext(root.database, options.context);
            const dataSource = await openModuleDataSource({
              context: options.context,
              url,
              entities: options.entities,
              migrations: [
                messagingTablesMigration({ withOutbox: usesStandardOutbox }),
                DeadLetterReplayedBy1764000000001,
                ...options.migrations,
              ],
              poolSize: root.database.poolSize,
            });
            const runtime = new ContextRuntime({
              context: options.context,
              dataSource,
              connectionUrl: url,
              outbox,
              bus,
              events,
              retry: root.consumerRetry ?? DEFAULT_CONSUMER_RETRY,
              remotePublisher: root.remotePublisher,
              servesCallsOnly: root.callsOnly?.includes(options.context) ?? false,
            });
            registry.register(runtime);
            return runtime;
          },
          inject: [FICUS_ROOT_OPTIONS, ContractBus, InProcessEventTransport, ContextRegistry],
        },
        { provide: DataSource, useFactory: (rt: ContextRuntime) => rt.dataSource, inject: [ContextRuntime] },
        { provide: UnitOfWork, useFactory: (rt: ContextRuntime) => rt.uow, inject: [ContextRuntime] },
        { provide: Outbox, useFactory: (rt: ContextRuntime) => rt.outbox, inject: [ContextRuntime] },
        ...contractClientProviders(options.uses ?? [], options.context),
        ...settingsProviders(options.settings ?? []),
        {
          provide: ContextWiring,
          useFactory: (runtime: ContextRuntime, modules: ModuleRef) =>
            new ContextWiring(runtime, modules, {
              serves: options.serves as Serving | undefined,
              consumes: options.consumes as readonly Consumption[] | undefined,
            }),
          inject: [ContextRuntime, ModuleRef],
        },
      ],
      exports: [
        ContextRuntime,
        DataSource,
        UnitOfWork,
        Outbox,
        ...(options.uses ?? []).map((c) => c.token),
        ...(options.settings ?? []).map((settings) => settings.token),
      ],
    };
  }

  /** For an edge with no module inside: just clients of the contracts it calls, as the edge. */
  static clients(contracts: readonly Contract[]): DynamicModule {
    return {
      module: FicusClientsModule,
      providers: contractClientProviders(contracts, 'edge'),
      exports: contracts.map((c) => c.token),
    };
  }
}

@Module({})
class FicusContextModule {}

@Module({})
class FicusClientsModule {}
