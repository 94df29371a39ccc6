import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PeriodicSweep } from '@infra/runtime';
import { PaymentMethodVault } from '../../persistence/payment-method.vault';

/**
 * Erases, once an hour, the payment methods no order took within a day, tokens and all: a request
 * that failed after the edge held its card, or a retry that was answered with the first order,
 * leaves one behind.
 */
@Injectable()
export class UnusedPaymentMethodsSweeper implements OnModuleInit, OnModuleDestroy {
  private readonly sweep: PeriodicSweep;

  constructor(vault: PaymentMethodVault) {
    this.sweep = new PeriodicSweep({
      name: 'UnusedPaymentMethodsSweeper',
      everyMs: 60 * 60_000,
      firstAfterMs: 60_000, // a process restarted more often than hourly still sweeps
      failure: 'unused payment methods not erased',
      work: () => vault.eraseUnused(),
    });
  }

  onModuleInit(): void {
    this.sweep.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.sweep.stop();
  }
}
