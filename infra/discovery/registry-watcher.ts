import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { BalancedEndpoint, EndpointSource, EndpointSources } from '@infra/messaging/grpc';
import { DISCOVERY_CHANNEL, type ServiceInstance, type ServiceRegistry } from './service-registry';

export interface RegistryWatcherOptions {
  /** Instances whose entry is older than this are gone. */
  readonly ttlMs: number;
  /** A full re-read this often: expiries send no notification, and a notification can be lost. */
  readonly refreshMs: number;
}

class WatchedTarget implements EndpointSource {
  private endpoints: readonly BalancedEndpoint[] = [];
  private readonly listeners = new Set<(endpoints: readonly BalancedEndpoint[]) => void>();

  current(): readonly BalancedEndpoint[] {
    return this.endpoints;
  }

  subscribe(listener: (endpoints: readonly BalancedEndpoint[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells the listeners only when the set of instances or an address changed. */
  set(endpoints: readonly BalancedEndpoint[]): void {
    const key = (list: readonly BalancedEndpoint[]) => list.map((e) => `${e.id}@${e.address}`).join(',');
    if (key(endpoints) === key(this.endpoints)) return;
    this.endpoints = endpoints;
    this.listeners.forEach((listener) => listener(endpoints));
  }
}

/**
 * The live instances of the targets a process calls, kept current from the registry: re-read at
 * once when an instance joins or leaves (LISTEN/NOTIFY on a connection of its own, reconnected
 * with backoff), and every `refreshMs` for entries that expired.
 */
export class RegistryWatcher implements EndpointSources {
  private readonly logger = new Logger('RegistryWatcher');
  private readonly watched: ReadonlyMap<string, WatchedTarget>;
  private listener?: Client;
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;
  private readAgain = false;
  private stopped = false;

  constructor(
    private readonly registry: ServiceRegistry,
    targets: readonly string[],
    private readonly options: RegistryWatcherOptions,
  ) {
    this.watched = new Map(targets.map((target) => [target, new WatchedTarget()]));
  }

  /** Reads the registry once (the first calls already have instances), then keeps watching. */
  async start(): Promise<void> {
    await this.readNow();
    await this.listen().catch(() => this.relisten());
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  sourceOf(target: string): EndpointSource {
    const watched = this.watched.get(target);
    if (!watched) throw new Error(`the registry watcher does not watch ${target}; it watches ${[...this.watched.keys()].join(', ')}`);
    return watched;
  }

  /** Re-reads the registry; a read asked for while one runs is done once, right after it. */
  refresh(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = this.readNow()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'registry read failed; keeping the instances known so far'))
      .finally(() => {
        this.reading = undefined;
        if (this.readAgain && !this.stopped) {
          this.readAgain = false;
          void this.refresh();
        }
      });
    return this.reading;
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.reading;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  private async readNow(): Promise<void> {
    const live = await this.registry.live([...this.watched.keys()], this.options.ttlMs);
    for (const [target, watched] of this.watched) {
      watched.set(live.filter((instance) => instance.target === target).map(endpointOf));
    }
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.registry.url });
    client.on('notification', (message) => {
      if (message.payload === undefined || this.watched.has(message.payload)) void this.refresh();
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'registry LISTEN connection lost; reconnecting (the periodic read covers the gap)');
      if (this.listener === client) this.listener = undefined;
      void client.end().catch(() => undefined);
      this.relisten();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${DISCOVERY_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
  }

  private relisten(attempt = 0): void {
    if (this.stopped) return;
    const delay = Math.min(10_000, 250 * 2 ** attempt);
    setTimeout(() => {
      if (this.stopped) return;
      this.listen().then(
        () => void this.refresh(),
        () => this.relisten(attempt + 1),
      );
    }, delay).unref();
  }
}

function endpointOf(instance: ServiceInstance): BalancedEndpoint {
  return { id: instance.instanceId, address: instance.grpcAddress };
}
