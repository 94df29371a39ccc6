import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { IdempotencyKeys } from '../../persistence/idempotency-keys.repository';

const SWEEP_EVERY_MS = 60 * 60_000;

/**
 * Deletes idempotency keys past their life once an hour. Correctness does not depend on it (an
 * expired key is taken over as new when it comes back); it only keeps the table from growing
 * with every key ever sent. Replicas may sweep at once: a DELETE of expired rows is idempotent.
 */
@Injectable()
export class ExpiredIdempotencyKeysSweeper implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ExpiredIdempotencyKeysSweeper');
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(private readonly keys: IdempotencyKeys) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.keys
        .purgeExpired()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'expired idempotency keys not purged; next sweep retries'))
        .finally(() => (this.sweeping = undefined));
    }, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping; // the data source closes at shutdown
  }
}
