import { Logger } from '@nestjs/common';
import { ChannelListener } from '@infra/persistence';
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
  private listener?: ChannelListener;
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
    this.listener = new ChannelListener({
      url: this.registry.url,
      channel: DISCOVERY_CHANNEL,
      logger: this.logger,
      gapCoveredBy: 'the periodic read',
      onNotification: (payload) => {
        if (payload === undefined || this.watched.has(payload)) void this.refresh();
      },
      onReconnected: () => void this.refresh(),
    });
    await this.listener.start().catch(() => this.listener?.reconnect());
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  sourceOf(target: string): EndpointSource {
    const watched = this.watched.get(target);
    if (!watched)
      throw new Error(
        `the registry watcher does not watch ${target}; it watches ${[...this.watched.keys()].join(', ')}`,
      );
    return watched;
  }

  /** Re-reads the registry; a read asked for while one runs is done once, right after it. */
  refresh(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = this.readNow()
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'registry read failed; keeping the instances known so far'),
      )
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
    await this.listener?.stop();
    this.listener = undefined;
  }

  private async readNow(): Promise<void> {
    const live = await this.registry.live([...this.watched.keys()], this.options.ttlMs);
    for (const [target, watched] of this.watched) {
      watched.set(live.filter((instance) => instance.target === target).map(endpointOf));
    }
  }
}

function endpointOf(instance: ServiceInstance): BalancedEndpoint {
  return { id: instance.instanceId, address: instance.grpcAddress };
}
