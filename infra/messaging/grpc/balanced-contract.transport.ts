import { Counter } from 'prom-client';
import { ContractError, unavailable, type CallContext, type Contract } from '@contracts/kernel';
import { observePeer, processMetrics } from '@infra/observability';
import type { ContractTransport } from '../contract-transport';
import { wasNeverSent } from './grpc-status';

/** One instance of a target, as discovery reports it. */
export interface BalancedEndpoint {
  /** Stable for the life of the instance (its registration id). */
  readonly id: string;
  /** host:port of its gRPC server. */
  readonly address: string;
}

/** The live instances of one target, and word when they change. */
export interface EndpointSource {
  current(): readonly BalancedEndpoint[];
  /** Called with the whole new list on every change; returns how to stop listening. */
  subscribe(listener: (endpoints: readonly BalancedEndpoint[]) => void): () => void;
}

/** Where a process finds the instances of the targets it reaches through the registry. */
export interface EndpointSources {
  sourceOf(target: string): EndpointSource;
}

export type ClosableTransport = ContractTransport & { close(): void };

export interface OutlierEjection {
  /** How long an instance that failed at the connection level is left out, the first time. */
  readonly baseMs: number;
  /** Each ejection in a row doubles the time, up to this. */
  readonly maxMs: number;
}

export const DEFAULT_EJECTION: OutlierEjection = { baseMs: 1_000, maxMs: 30_000 };

export interface BalancedTransportOptions {
  /** The target's name, for errors, logs and metrics. */
  readonly target: string;
  readonly source: EndpointSource;
  /** A transport (one channel) to one instance; closed when the instance leaves. */
  readonly connect: (endpoint: BalancedEndpoint) => ClosableTransport;
  readonly ejection?: OutlierEjection;
  readonly now?: () => number;
  readonly random?: () => number;
}

const balancedCalls = new Counter({
  name: 'ficus_balanced_calls_total',
  help: 'Calls sent to one instance of a target found through the registry, by outcome (ok or the error kind)',
  labelNames: ['target', 'instance', 'outcome'],
  registers: [processMetrics],
});

const instanceEjections = new Counter({
  name: 'ficus_instance_ejections_total',
  help: 'Times an instance was left out of load balancing after a connection-level failure',
  labelNames: ['target', 'instance'],
  registers: [processMetrics],
});

interface Instance {
  readonly endpoint: BalancedEndpoint;
  readonly transport: ClosableTransport;
  inFlight: number;
  picks: number;
  /** Ejections in a row; reset by a success. */
  ejections: number;
  ejectedUntil: number;
  /** Gone from the registry: closed once its last call has finished. */
  retired: boolean;
}

/**
 * Client-side load balancing over the live instances of one target (ADR 0030): one channel per
 * instance, kept in step with the registry; power of two choices by calls in flight (ties go to
 * the instance picked less often); an instance that fails at the connection level is ejected for
 * a while, doubling while it keeps failing.
 *
 * A call that failed on one instance is tried on another only when that cannot duplicate work:
 * the request never left (no connection), or the method is idempotent and the instance answered
 * `unavailable`. Each instance is tried at most once per call, and never past the deadline. Those
 * are fail-overs within one attempt; ResilientTransport, in front of this, still owns retries
 * with backoff, the retry budget, the breaker and the bulkhead of the target as a whole.
 */
export class BalancedContractTransport implements ClosableTransport {
  readonly kind = 'grpc-balanced';
  readonly name: string;
  readonly gatesReadiness = false;
  private readonly instances = new Map<string, Instance>();
  private readonly ejection: OutlierEjection;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly unsubscribe: () => void;
  private readonly observed: { forget(): void };
  private closed = false;

  constructor(private readonly options: BalancedTransportOptions) {
    this.name = `peer:${options.target}`;
    this.ejection = options.ejection ?? DEFAULT_EJECTION;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.update(options.source.current());
    this.unsubscribe = options.source.subscribe((endpoints) => this.update(endpoints));
    this.observed = observePeer({ target: options.target, instances: () => this.snapshot() });
  }

  /** The instances balanced over now, and whether each is ejected. */
  snapshot(): Array<{ id: string; address: string; inFlight: number; ejected: boolean }> {
    const now = this.now();
    return [...this.instances.values()].map((i) => ({
      id: i.endpoint.id,
      address: i.endpoint.address,
      inFlight: i.inFlight,
      ejected: i.ejectedUntil > now,
    }));
  }

  async unary(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown> {
    const idempotent = contract.methods[method]?.idempotent ?? false;
    const tried = new Set<string>();
    let lastError: unknown;
    for (;;) {
      const instance = this.take(tried);
      if (!instance) throw lastError ?? this.noInstance();
      try {
        const answer = await instance.transport.unary(contract, method, ctx, request);
        this.succeeded(instance);
        return answer;
      } catch (error) {
        this.failed(instance, error);
        if (!mayFailOver(error, idempotent) || this.now() >= ctx.deadline) throw error;
        lastError = error;
      } finally {
        this.release(instance);
      }
    }
  }

  /** A stream stays on the instance it started on; it fails over only if it never got there. */
  async *serverStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown> {
    const tried = new Set<string>();
    let lastError: unknown;
    for (;;) {
      const instance = this.take(tried);
      if (!instance) throw lastError ?? this.noInstance();
      let received = false;
      try {
        for await (const item of instance.transport.serverStream(contract, method, ctx, request)) {
          received = true;
          yield item;
        }
        this.succeeded(instance);
        return;
      } catch (error) {
        this.failed(instance, error);
        if (received || !neverSent(error) || this.now() >= ctx.deadline) throw error;
        lastError = error;
      } finally {
        this.release(instance);
      }
    }
  }

  /** At /ready as `peer:<target>` (reported, never gating: ADR 0020). */
  check(): Promise<{ up: boolean; detail: string }> {
    const instances = this.snapshot();
    const serving = instances.filter((i) => !i.ejected);
    if (serving.length === 0) {
      const detail =
        instances.length === 0
          ? 'no live instance in the registry'
          : `every instance ejected: ${instances.map((i) => `${i.id}@${i.address}`).join(', ')}`;
      return Promise.resolve({ up: false, detail });
    }
    return Promise.resolve({
      up: true,
      detail:
        `${serving.length} of ${instances.length} instances: ` +
        `${serving.map((i) => `${i.id}@${i.address}`).join(', ')}`,
    });
  }

  close(): void {
    this.closed = true;
    this.observed.forget();
    this.unsubscribe();
    this.instances.forEach((instance) => instance.transport.close());
    this.instances.clear();
  }

  private update(endpoints: readonly BalancedEndpoint[]): void {
    if (this.closed) return;
    const wanted = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
    for (const [id, instance] of this.instances) {
      if (wanted.get(id)?.address === instance.endpoint.address) continue;
      this.instances.delete(id);
      instance.retired = true;
      if (instance.inFlight === 0) instance.transport.close();
    }
    for (const endpoint of wanted.values()) {
      if (this.instances.has(endpoint.id)) continue;
      this.instances.set(endpoint.id, {
        endpoint,
        transport: this.options.connect(endpoint),
        inFlight: 0,
        picks: 0,
        ejections: 0,
        ejectedUntil: 0,
        retired: false,
      });
    }
  }

  /** The instance to try next, marked tried and counted in flight (until `release`). */
  private take(tried: Set<string>): Instance | undefined {
    const instance = this.pick(tried);
    if (!instance) return undefined;
    tried.add(instance.endpoint.id);
    instance.inFlight++;
    instance.picks++;
    return instance;
  }

  /**
   * Two instances at random among those not tried yet and not ejected, the one with fewer calls
   * in flight. When every one left is ejected, one of those is tried all the same (Envoy's panic
   * threshold): a call that might succeed beats a certain failure.
   */
  private pick(tried: ReadonlySet<string>): Instance | undefined {
    const now = this.now();
    const untried = [...this.instances.values()].filter((i) => !tried.has(i.endpoint.id));
    const healthy = untried.filter((i) => i.ejectedUntil <= now);
    const candidates = healthy.length > 0 ? healthy : untried;
    if (candidates.length <= 1) return candidates[0];
    const first = Math.floor(this.random() * candidates.length);
    const second = (first + 1 + Math.floor(this.random() * (candidates.length - 1))) % candidates.length;
    const [a, b] = [candidates[first], candidates[second]];
    if (a.inFlight !== b.inFlight) return a.inFlight < b.inFlight ? a : b;
    return a.picks <= b.picks ? a : b;
  }

  private succeeded(instance: Instance): void {
    instance.ejections = 0;
    balancedCalls.inc({ target: this.options.target, instance: instance.endpoint.id, outcome: 'ok' });
  }

  private failed(instance: Instance, error: unknown): void {
    const outcome = error instanceof ContractError ? error.kind : 'internal';
    balancedCalls.inc({ target: this.options.target, instance: instance.endpoint.id, outcome });
    if (!isConnectionFailure(error)) return;
    instance.ejections++;
    const ms = Math.min(this.ejection.maxMs, this.ejection.baseMs * 2 ** (instance.ejections - 1));
    instance.ejectedUntil = this.now() + ms;
    instanceEjections.inc({ target: this.options.target, instance: instance.endpoint.id });
  }

  private release(instance: Instance): void {
    instance.inFlight--;
    if (instance.retired && instance.inFlight === 0) instance.transport.close();
  }

  private noInstance(): ContractError {
    return unavailable('no-instances', `${this.options.target} has no live instance in the registry`, {
      retryAfterSeconds: 1,
    });
  }
}

/** gRPC's own UNAVAILABLE (no typed error from the server): the connection, not the request, failed. */
function isConnectionFailure(error: unknown): boolean {
  return error instanceof ContractError && error.kind === 'unavailable' && error.code === 'upstream-unavailable';
}

/**
 * The grpc-js picker's answer when the channel has no connection: the request never left this
 * process (https://github.com/grpc/grpc-node: load-balancer-pick-first.ts, picker.ts), so another
 * instance may take it even for a method that is not idempotent (`fromServiceError` marks it).
 */
function neverSent(error: unknown): boolean {
  return wasNeverSent(error);
}

/** Whether another instance may take a call that failed on one without doing its work twice. */
function mayFailOver(error: unknown, idempotent: boolean): boolean {
  if (neverSent(error)) return true;
  if (!idempotent || !(error instanceof ContractError) || error.kind !== 'unavailable') return false;
  return error.code !== 'circuit-open' && error.code !== 'bulkhead-full';
}
