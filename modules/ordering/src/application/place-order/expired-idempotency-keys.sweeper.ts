import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PeriodicSweep } from '@infra/runtime';
import { IdempotencyKeys } from '../../persistence/idempotency-keys.repository';

/**
 * Deletes idempotency keys past their life once an hour. Correctness does not depend on it (an
 * expired key is taken over as new when it comes back); it only keeps the table from growing
 * with every key ever sent.
 */
@Injectable()
export class ExpiredIdempotencyKeysSweeper implements OnModuleInit, OnModuleDestroy {
  private readonly sweep: PeriodicSweep;

  constructor(keys: IdempotencyKeys) {
    this.sweep = new PeriodicSweep({
      name: 'ExpiredIdempotencyKeysSweeper',
      everyMs: 60 * 60_000,
      firstAfterMs: 60_000, // a process restarted more often than hourly still sweeps
      failure: 'expired idempotency keys not purged',
      work: () => keys.purgeExpired(),
    });
  }

  onModuleInit(): void {
    this.sweep.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.sweep.stop();
  }
}
