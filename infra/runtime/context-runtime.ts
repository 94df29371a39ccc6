import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Contract, ContractApi, EventDefinition } from '@contracts/kernel';
import {
  ContractBus,
  DeadLetters,
  InboxConsumer,
  InProcessEventTransport,
  Outbox,
  OutboxRelay,
  type ConsumerRetryOptions,
  FanOutPublisher,
  type ContractImplementation,
  type EventPublisher,
  type IntegrationEventHandler,
} from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';

export interface ContextOutboxOptions {
  /** The table the relay reads: `outbox`, or an event store that doubles as the outbox. */
  readonly table: string;
  /** Event types that leave the context; the rest are private to it. */
  readonly publishes?: (type: string) => boolean;
}

export interface ReadinessReport {
  readonly context: string;
  readonly ready: boolean;
  readonly detail: string;
}

/**
 * Everything one bounded context runs on in this process: its data source and unit of work, its
 * outbox and relay, its inbox consumers and dead letters, and its registrations on the bus. A
 * module wires its contract implementation and event handlers here in `onModuleInit`.
 */
export class ContextRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly uow: UnitOfWork;
  readonly outbox: Outbox;
  readonly deadLetters: DeadLetters;
  readonly relay: OutboxRelay;
  private readonly consumers = new Map<string, InboxConsumer<EventDefinition>>();
  private readonly logger: Logger;

  constructor(
    readonly context: string,
    readonly dataSource: DataSource,
    readonly connectionUrl: string,
    outbox: ContextOutboxOptions,
    private readonly bus: ContractBus,
    private readonly events: InProcessEventTransport,
    private readonly retry: ConsumerRetryOptions,
    remotePublisher?: EventPublisher,
  ) {
    this.logger = new Logger(`Context(${context})`);
    this.uow = new UnitOfWork(context, dataSource);
    this.outbox = new Outbox(this.uow, outbox.table);
    this.deadLetters = new DeadLetters(this.uow, this.consumers);
    this.relay = new OutboxRelay({
      context,
      dataSource,
      listenUrl: connectionUrl,
      table: outbox.table,
      publisher: remotePublisher ? new FanOutPublisher([events, remotePublisher]) : events,
      publishes: outbox.publishes,
    });
  }

  serve<C extends Contract>(contract: C, implementation: ContractApi<C>): void {
    if (contract.context !== this.context) {
      throw new Error(`${this.context} cannot serve ${contract.name}, a contract of ${contract.context}`);
    }
    this.bus.serve(contract, implementation as unknown as ContractImplementation);
  }

  consume<E extends EventDefinition>(definition: E, handler: IntegrationEventHandler<E>): void {
    const consumer = new InboxConsumer(this.context, definition, handler, this.uow, this.retry);
    this.consumers.set(consumer.consumer, consumer as unknown as InboxConsumer<EventDefinition>);
    this.events.subscribe(consumer);
  }

  /** The inbox consumers of this context, one per event type it handles. */
  inboxConsumers(): ReadonlyArray<InboxConsumer<EventDefinition>> {
    return [...this.consumers.values()];
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) {
      await this.dataSource.destroy();
    }
  }

  async readiness(): Promise<ReadinessReport> {
    try {
      await this.dataSource.query('SELECT 1');
      const pending = await this.dataSource.showMigrations();
      return { context: this.context, ready: !pending, detail: pending ? 'migrations pending' : 'up' };
    } catch (error) {
      this.logger.warn({ err: error }, 'not ready');
      return { context: this.context, ready: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }
}
