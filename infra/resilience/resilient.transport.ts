import { Logger } from '@nestjs/common';
import { bulkhead, BulkheadRejectedError, TaskCancelledError, type BulkheadPolicy } from 'cockatiel';
import { ContractError, deadlineExceeded, unavailable, type CallContext, type Contract } from '@contracts/kernel';
import { callerStoppedWaiting, type ContractTransport } from '@infra/messaging';
import { breakerTransitions, observeBreaker, observeBulkhead, remoteCallsRejected } from '@infra/observability';
import { CircuitBreaker, DEFAULT_BREAKER, type CircuitBreakerOptions } from './circuit-breaker';
import { SYSTEM_CLOCK, type Clock } from './clock';
import { DEFAULT_RETRY_BUDGET, RetryBudget, type RetryBudgetOptions } from './retry-budget';

export interface RemoteCallPolicy {
  /** Attempts beyond the first, for idempotent methods and retryable errors only. */
  readonly retries: number;
  /** Full-jitter exponential backoff: a random wait in [0, min(max, initial·2^attempt)]. */
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly bulkhead: { readonly maxConcurrent: number; readonly maxQueued: number };
  readonly breaker: CircuitBreakerOptions;
  readonly retryBudget: RetryBudgetOptions;
}

export const DEFAULT_REMOTE_POLICY: RemoteCallPolicy = {
  retries: 2,
  backoff: { initialMs: 50, maxMs: 1_000 },
  bulkhead: { maxConcurrent: 64, maxQueued: 256 },
  breaker: DEFAULT_BREAKER,
  retryBudget: DEFAULT_RETRY_BUDGET,
};

/** Overrides for one contract method: its retries, and a cap on each attempt's time. */
export interface MethodPolicy {
  readonly retries?: number;
  readonly timeoutMs?: number;
}

export type MethodPolicyOf = (contract: Contract, method: string) => MethodPolicy | undefined;

/**
 * Errors that say something about the target's health, as opposed to the request's; a call its
 * caller cancelled says nothing either way (undefined).
 */
function countsAgainstTarget(error: unknown): boolean | undefined {
  if (error instanceof ContractError && error.kind === 'cancelled') return undefined;
  return (
    !(error instanceof ContractError) ||
    error.kind === 'unavailable' ||
    error.kind === 'deadline-exceeded' ||
    error.kind === 'internal'
  );
}

export interface ResilientTransportOptions {
  /**
   * The remote target it guards; labels its metrics and logs (`<target>-canary`, `<target>-shadow`
   * for a second guard).
   */
  readonly target: string;
  /** The client it guards. */
  readonly inner: ContractTransport;
  readonly policy?: RemoteCallPolicy;
  readonly clock?: Clock;
  /** How a backoff waits; tests pass one that does not. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The jitter's dice. */
  readonly random?: () => number;
  /** A method's own timeout and retries, where the topology gives them. */
  readonly methodPolicyOf?: MethodPolicyOf;
}

/**
 * What protects a caller from one remote target: a bulkhead (so a slow target cannot take every
 * caller with it), a circuit breaker (fail fast while it is down), and retries with full-jitter
 * backoff for idempotent methods only, on retryable errors only, inside a retry budget and never
 * past the caller's deadline. Wraps any remote transport; in-process calls keep only their
 * deadline (a breaker there would only hide a bug).
 */
export class ResilientTransport implements ContractTransport {
  readonly kind: string;
  readonly breaker: CircuitBreaker;
  private readonly bulkhead: BulkheadPolicy;
  private readonly budget: RetryBudget;
  private readonly logger: Logger;
  private readonly observed: Array<{ forget(): void }>;

  readonly target: string;
  private readonly inner: ContractTransport;
  private readonly policy: RemoteCallPolicy;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly methodPolicyOf: MethodPolicyOf;

  constructor(options: ResilientTransportOptions) {
    const { target, inner } = options;
    const policy = (this.policy = options.policy ?? DEFAULT_REMOTE_POLICY);
    const clock = (this.clock = options.clock ?? SYSTEM_CLOCK);
    this.target = target;
    this.inner = inner;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
    this.methodPolicyOf = options.methodPolicyOf ?? (() => undefined);
    this.kind = `resilient(${inner.kind})`;
    this.logger = new Logger(`ResilientTransport(${target})`);
    this.breaker = new CircuitBreaker(target, policy.breaker, clock);
    this.breaker.onTransition((t) => {
      breakerTransitions.inc({ target, to: t.to });
      this.logger.warn({ target, from: t.from, to: t.to }, `circuit ${t.from} → ${t.to}`);
    });
    this.bulkhead = bulkhead(policy.bulkhead.maxConcurrent, policy.bulkhead.maxQueued);
    this.budget = new RetryBudget(policy.retryBudget, clock);
    this.observed = [observeBreaker(this.breaker), observeBulkhead(this)];
  }

  /** Calls to the target waiting for a bulkhead slot. */
  get queued(): number {
    return this.policy.bulkhead.maxQueued - this.bulkhead.queueSlots;
  }

  /** Calls to the target under way (bulkhead slots taken). */
  get active(): number {
    return this.policy.bulkhead.maxConcurrent - this.bulkhead.executionSlots;
  }

  async unary(contract: Contract, method: string, ctx: CallContext, request: unknown): Promise<unknown> {
    const idempotent = contract.methods[method]?.idempotent ?? false;
    const overrides = this.methodPolicyOf(contract, method);
    const retries = overrides?.retries ?? this.policy.retries;
    this.budget.recordCall();
    for (let attempt = 0; ; attempt++) {
      // An attempt may be capped shorter than the caller's deadline, never longer.
      const attemptCtx = overrides?.timeoutMs
        ? { ...ctx, deadline: Math.min(ctx.deadline, this.clock.now() + overrides.timeoutMs) }
        : ctx;
      try {
        return await this.once(
          () => this.inner.unary(contract, method, attemptCtx, request),
          ctx.signal,
          `${contract.name}/${method}`,
        );
      } catch (error) {
        if (!this.mayRetry(error, idempotent, attempt, retries, ctx)) throw error;
        const wait = this.random() * Math.min(this.policy.backoff.maxMs, this.policy.backoff.initialMs * 2 ** attempt);
        if (this.clock.now() + wait >= ctx.deadline) {
          throw deadlineExceeded('deadline-exceeded', `${contract.name}/${method}: no time left to retry`);
        }
        await this.sleep(wait);
      }
    }
  }

  async *serverStream(contract: Contract, method: string, ctx: CallContext, request: unknown): AsyncIterable<unknown> {
    if (this.breaker.state === 'open') {
      await this.breaker.execute(() => Promise.resolve()); // throws the typed circuit-open error
    }
    yield* this.inner.serverStream(contract, method, ctx, request);
  }

  /** One attempt; one that waited in the bulkhead's queue is not sent once its caller has left. */
  private async once<T>(call: () => Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
    let sent = false;
    const send = () => {
      sent = true;
      return call();
    };
    try {
      return await this.bulkhead.execute(() => this.breaker.execute(send, countsAgainstTarget), signal);
    } catch (error) {
      // instanceof, not cockatiel's isTaskCancelledError: in 3.2 that one matches BulkheadRejectedError.
      if (error instanceof TaskCancelledError) throw callerStoppedWaiting(what);
      if (error instanceof BulkheadRejectedError) {
        remoteCallsRejected.inc({ target: this.target, reason: 'bulkhead-full' });
        throw unavailable('bulkhead-full', `${this.target} has too many calls waiting`, { retryAfterSeconds: 1 });
      }
      if (!sent && error instanceof ContractError && error.code === 'circuit-open') {
        remoteCallsRejected.inc({ target: this.target, reason: 'circuit-open' });
      }
      throw error;
    }
  }

  /** Stops reporting this target's breaker and bulkhead (the process no longer calls it). */
  close(): void {
    this.observed.forEach((observed) => observed.forget());
  }

  private mayRetry(error: unknown, idempotent: boolean, attempt: number, retries: number, ctx: CallContext): boolean {
    if (!idempotent || attempt >= retries || ctx.signal?.aborted) return false;
    if (!(error instanceof ContractError) || !error.retryable) return false;
    if (error.code === 'circuit-open' || error.code === 'bulkhead-full') return false;
    if (this.clock.now() >= ctx.deadline) return false;
    return this.budget.tryRetry();
  }
}
