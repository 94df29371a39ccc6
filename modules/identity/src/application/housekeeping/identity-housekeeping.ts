import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PeriodicSweep } from '@infra/runtime';
import { DEFAULT_ACCOUNT_EMAILS } from '../../domain/account-email-policy';
import { DEFAULT_LOGIN_THROTTLE } from '../../domain/login-throttle-policy';
import { AccountEmailRepository } from '../../persistence/account-email.repository';
import { CustomerRepository } from '../../persistence/customer.repository';
import { LoginThrottleRepository } from '../../persistence/login-throttle.repository';
import { RefreshTokenRepository } from '../../persistence/refresh-token.repository';

/**
 * Drops what identity keeps only for a while, apart from any request: refresh tokens expired for
 * a day (and the families they leave empty) and confirmation links spent or expired a day ago
 * every hour, login-throttle and account-email windows long past every five minutes; each first a
 * minute after start, so that a process restarted more often than hourly still sweeps.
 * Correctness depends on none of them (an expired token or link is refused, a past window starts
 * afresh at its next use): they keep the tables from growing. They ran on the request path
 * before, where a refresh's clean-up joined the customer's transaction, holding its locks for the
 * customer's request and rolled back with it.
 */
@Injectable()
export class IdentityHousekeeping implements OnModuleInit, OnModuleDestroy {
  private readonly sweeps: readonly PeriodicSweep[];

  constructor(
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly throttle: LoginThrottleRepository,
    private readonly customers: CustomerRepository,
    private readonly accountEmails: AccountEmailRepository,
  ) {
    this.sweeps = [
      new PeriodicSweep({
        name: 'ExpiredRefreshTokensSweeper',
        everyMs: 60 * 60_000,
        firstAfterMs: 60_000,
        failure: 'expired refresh tokens not purged',
        work: () => this.refreshTokens.deleteExpired(),
      }),
      new PeriodicSweep({
        name: 'SpentConfirmationsSweeper',
        everyMs: 60 * 60_000,
        firstAfterMs: 60_000,
        failure: 'spent confirmation links not purged',
        work: () => this.customers.deleteSpentConfirmations(),
      }),
      new PeriodicSweep({
        name: 'LoginThrottleSweeper',
        everyMs: 5 * 60_000,
        firstAfterMs: 60_000,
        failure: 'past login-throttle windows not purged',
        work: () => this.throttle.deleteEnded(DEFAULT_LOGIN_THROTTLE),
      }),
      new PeriodicSweep({
        name: 'AccountEmailsSweeper',
        everyMs: 5 * 60_000,
        firstAfterMs: 60_000,
        failure: 'past account-email windows not purged',
        work: () => this.accountEmails.deleteEnded(DEFAULT_ACCOUNT_EMAILS),
      }),
    ];
  }

  /** What the sweeps do, at once (an operator's or a test's run; the timers run the same). */
  async sweepNow(): Promise<void> {
    await this.refreshTokens.deleteExpired();
    await this.customers.deleteSpentConfirmations();
    await this.throttle.deleteEnded(DEFAULT_LOGIN_THROTTLE);
    await this.accountEmails.deleteEnded(DEFAULT_ACCOUNT_EMAILS);
  }

  onModuleInit(): void {
    for (const sweep of this.sweeps) sweep.start();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.sweeps.map((sweep) => sweep.stop()));
  }
}
