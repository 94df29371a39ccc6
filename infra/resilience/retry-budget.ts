import { SYSTEM_CLOCK, type Clock } from './clock';

export interface RetryBudgetOptions {
  /** Retries allowed as a share of the calls in the window (0.2: one retry per five calls). */
  readonly ratio: number;
  /** Retries always allowed per window, so a quiet target can still be retried. */
  readonly minPerWindow: number;
  readonly windowMs: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = { ratio: 0.2, minPerWindow: 10, windowMs: 10_000 };

/**
 * Caps retries to a share of recent calls to one target. When a target fails, every caller
 * would otherwise retry at once and multiply the load it is drowning in, hop after hop.
 */
export class RetryBudget {
  private windowStart: number;
  private calls = 0;
  private retries = 0;

  constructor(
    private readonly options: RetryBudgetOptions = DEFAULT_RETRY_BUDGET,
    private readonly clock: Clock = SYSTEM_CLOCK,
  ) {
    this.windowStart = clock.now();
  }

  recordCall(): void {
    this.roll();
    this.calls += 1;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(): boolean {
    this.roll();
    if (this.retries >= Math.max(this.options.minPerWindow, this.calls * this.options.ratio)) return false;
    this.retries += 1;
    return true;
  }

  private roll(): void {
    if (this.clock.now() - this.windowStart >= this.options.windowMs) {
      this.windowStart = this.clock.now();
      this.calls = 0;
      this.retries = 0;
    }
  }
}
