import { unavailable, type ContractError } from '@contracts/kernel';
import { SYSTEM_CLOCK, type Clock } from './clock';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  readonly failuresToOpen: number;
  /** How long it stays open before letting probes through. */
  readonly openForMs: number;
  /** Consecutive successful probes that close it again. */
  readonly successesToClose: number;
  /** Probes allowed at once while half-open. */
  readonly halfOpenProbes: number;
}

/** The numbers the reference asks for: open after 5 failures, 30 s open, closed after 2 successes. */
export const DEFAULT_BREAKER: CircuitBreakerOptions = {
  failuresToOpen: 5,
  openForMs: 30_000,
  successesToClose: 2,
  halfOpenProbes: 1,
};

export interface BreakerTransition {
  readonly name: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly at: number;
}

/**
 * A circuit breaker per remote target. Written here rather than taken from cockatiel because
 * cockatiel's breaker closes on the first successful probe, and ficus closes only after
 * `successesToClose` of them (see docs/adr/0017). Calls that fail fast while it is open get a
 * typed `unavailable` error with a retry-after, which the edge turns into 503 + Retry-After.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private successes = 0;
  private openedAt = 0;
  private probesInFlight = 0;
  private readonly listeners: Array<(transition: BreakerTransition) => void> = [];

  constructor(
    readonly name: string,
    private readonly options: CircuitBreakerOptions = DEFAULT_BREAKER,
    private readonly clock: Clock = SYSTEM_CLOCK,
  ) {}

  get state(): BreakerState {
    if (this.current === 'open' && this.clock.now() - this.openedAt >= this.options.openForMs) {
      this.transition('half-open');
    }
    return this.current;
  }

  onTransition(listener: (transition: BreakerTransition) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `call` unless the circuit is open; records how it went. `isFailure` says whether an error
   * speaks of the target's health (true) or of the request's, the target having answered (false,
   * a success); undefined when it says nothing of the target, because the caller left before any
   * answer: that is recorded as neither, or a client that aborts its calls would keep the circuit
   * closed.
   */
  async execute<T>(
    call: () => Promise<T>,
    isFailure: (error: unknown) => boolean | undefined = () => true,
  ): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probesInFlight >= this.options.halfOpenProbes)) {
      throw this.openError();
    }
    const probing = state === 'half-open';
    if (probing) this.probesInFlight += 1;
    try {
      const result = await call();
      this.recordSuccess();
      return result;
    } catch (error) {
      const failed = isFailure(error);
      if (failed === true) this.recordFailure();
      else if (failed === false) this.recordSuccess();
      throw error;
    } finally {
      if (probing) this.probesInFlight -= 1;
    }
  }

  private recordSuccess(): void {
    if (this.current === 'half-open') {
      this.successes += 1;
      if (this.successes >= this.options.successesToClose) this.transition('closed');
    } else {
      this.failures = 0;
    }
  }

  private recordFailure(): void {
    if (this.current === 'half-open') {
      this.transition('open');
      return;
    }
    this.failures += 1;
    if (this.current === 'closed' && this.failures >= this.options.failuresToOpen) {
      this.transition('open');
    }
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.failures = 0;
    this.successes = 0;
    if (to === 'open') this.openedAt = this.clock.now();
    const transition = { name: this.name, from, to, at: this.clock.now() };
    this.listeners.forEach((listener) => listener(transition));
  }

  private openError(): ContractError {
    const retryAfterMs = Math.max(0, this.options.openForMs - (this.clock.now() - this.openedAt));
    return unavailable('circuit-open', `${this.name} is failing; calls are held off for now`, {
      retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1_000)),
    });
  }
}
