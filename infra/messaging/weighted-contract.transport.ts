import type { CallContext, Contract } from '@contracts/kernel';
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
}

/**
 * Sends each call to one of two versions of a target: blue/green at 0 or 100, a canary anywhere
 * between. Sticky routing buckets the end user the way feature flags do (infra/flags), so raising
 * the share only moves more users over, never back; a call with no end user, or a route that is
 * not sticky, is placed at random in proportion. Streams go where their call went. Each version
 * is its own transport, with its own resilience and breaker, so a failing canary opens its own.
 */
export class WeightedContractTransport implements ContractTransport {
  readonly kind = 'weighted';

  constructor(private readonly options: WeightedRouteOptions) {}

  unary(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown> {
    return this.versionFor(ctx).transport.unary(contract, method, ctx, request);
  }

  serverStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown> {
    return this.versionFor(ctx).transport.serverStream(contract, method, ctx, request);
  }

  /** The version this call goes to. */
  versionFor(ctx: CallContext): RouteVersion {
    const { primary, secondary, target } = this.options;
    const percent = Math.min(100, Math.max(0, this.options.percent()));
    const subject = this.options.stickyPerCaller ? ctx.caller?.subject : undefined;
    const bucket = subject === undefined ? Math.random() * 100 : bucketOf(`route:${target}`, subject);
    const chosen = bucket < percent ? secondary : primary;
    routedCalls.inc({ target, version: chosen.name });
    return chosen;
  }
}
