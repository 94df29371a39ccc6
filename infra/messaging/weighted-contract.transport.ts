import { ContractError, type CallContext, type Contract } from '@contracts/kernel';
import { bucketOf } from '@infra/flags/bucketing';
import { routedCalls } from '@infra/observability';
import type { ContractTransport } from './contract-transport';

/** One of the two versions a weighted route splits calls between. */
export interface RouteVersion {
  /** As counted in ficus_routed_calls_total: `stable`, `canary`, … */
  readonly name: string;
  readonly transport: ContractTransport;
}

export interface WeightedRouteOptions {
  /** The target whose calls are split; also salts the sticky buckets. */
  readonly target: string;
  readonly primary: RouteVersion;
  readonly secondary: RouteVersion;
  /** The secondary's share of calls, 0–100, read at every call (so it can change at run time). */
  readonly percent: () => number;
  /** One end user always reaches the same version (their bucket, below the share or not). */
  readonly stickyPerCaller: boolean;
  /**
   * Per call, what keeps it on one version, read before `stickyPerCaller`: an aggregate id (as the
   * method declares it, `aggregateIdOf`), so that every call about one order or one product goes to
   * the same copy. Undefined: not sticky.
   */
  readonly stickyKey?: (ctx: CallContext, contract: Contract, method: string, request: unknown) => string | undefined;
}

/**
 * Sends each call to one of two versions of a target: blue/green at 0 or 100, a canary anywhere
 * between. Sticky routing buckets the end user the way feature flags do (infra/flags), so raising
 * the share only moves more users over, never back; a call with no end user, or a route that is
 * not sticky, is placed in exact proportion (each call adds the share to a credit, and a full 100
 * sends one to the second version: at 50 % every other call, at 10 % every tenth), so what the
 * metrics show a shift took is what it was set to, not a sample of it. Streams go where their call went. Each version
 * is its own transport, with its own resilience and breaker, so a failing canary opens its own.
 */
export class WeightedContractTransport implements ContractTransport {
  readonly kind = 'weighted';

  /**
   * Share earned towards the next non-sticky call to the second version; starts anywhere, so
   * replicas do not move in step.
   */
  private credit = Math.random() * 100;

  constructor(private readonly options: WeightedRouteOptions) {}

  async unary(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown> {
    const version = this.versionFor(ctx, contract, method, request);
    try {
      const answer = await version.transport.unary(contract, method, ctx, request);
      routedCalls.inc({ target: this.options.target, version: version.name, outcome: 'ok' });
      return answer;
    } catch (error) {
      routedCalls.inc({
        target: this.options.target,
        version: version.name,
        outcome: error instanceof ContractError ? error.kind : 'internal',
      });
      throw error;
    }
  }

  serverStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown> {
    const version = this.versionFor(ctx, contract, method, request);
    routedCalls.inc({ target: this.options.target, version: version.name, outcome: 'stream' });
    return version.transport.serverStream(contract, method, ctx, request);
  }

  /** The version this call goes to. */
  versionFor(ctx: CallContext, contract?: Contract, method?: string, request?: unknown): RouteVersion {
    const { primary, secondary, target } = this.options;
    const percent = Math.min(100, Math.max(0, this.options.percent()));
    if (percent <= 0) return primary;
    if (percent >= 100) return secondary;
    const key =
      (contract && method ? this.options.stickyKey?.(ctx, contract, method, request) : undefined) ??
      (this.options.stickyPerCaller ? ctx.caller?.subject : undefined);
    if (key !== undefined) return bucketOf(`route:${target}`, key) < percent ? secondary : primary;
    this.credit += percent;
    if (this.credit < 100) return primary;
    this.credit -= 100;
    return secondary;
  }
}
