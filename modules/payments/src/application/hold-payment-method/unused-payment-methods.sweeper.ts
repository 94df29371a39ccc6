import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PaymentMethodVault } from '../../persistence/payment-method.vault';

const SWEEP_EVERY_MS = 60 * 60_000;

/**
 * Erases, once an hour, the payment methods no order took within a day, tokens and all: a request
 * that failed after the edge held its card, or a retry that was answered with the first order,
 * leaves one behind. Replicas may sweep at once: the DELETE is idempotent.
 */
@Injectable()
export class UnusedPaymentMethodsSweeper implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('UnusedPaymentMethodsSweeper');
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(private readonly vault: PaymentMethodVault) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.vault
        .eraseUnused()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'unused payment methods not erased; next sweep retries'))
        .finally(() => (this.sweeping = undefined));
    }, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping; // the data source closes at shutdown
  }
}
