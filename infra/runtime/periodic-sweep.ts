import { Logger } from '@nestjs/common';

/**
 * Runs a clean-up every `everyMs` while the process lives: never two at once, a failure logged and
 * left to the next round, and the round under way awaited on stop (the data source closes after).
 * Replicas may sweep at the same time, so the work must be idempotent (a DELETE of expired rows).
 */
export class PeriodicSweep {
  private readonly logger: Logger;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(
    private readonly options: {
      readonly name: string;
      readonly everyMs: number;
      /**
       * When the first sweep runs after start (default `everyMs`): sooner for a sweep whose
       * interval is longer than a process may live between deploys.
       */
      readonly firstAfterMs?: number;
      readonly failure: string;
      readonly work: () => Promise<unknown>;
    },
  ) {
    this.logger = new Logger(options.name);
  }

  start(): void {
    const { everyMs, firstAfterMs = everyMs } = this.options;
    this.timer = setTimeout(() => {
      this.sweep();
      this.timer = setInterval(() => this.sweep(), everyMs);
      this.timer.unref();
    }, firstAfterMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer); // the first sweep's timeout or the interval after it: Node clears either
    await this.sweeping;
  }

  private sweep(): void {
    this.sweeping ??= this.options
      .work()
      .catch((error: unknown) => this.logger.warn({ err: error }, `${this.options.failure}; next sweep retries`))
      .finally(() => (this.sweeping = undefined));
  }
}
