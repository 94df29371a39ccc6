import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ExpireOverdueOrdersCommand } from './expire-overdue-orders.command';
import { SAGA_DEADLINE_OPTIONS, type SagaDeadlineOptions } from './saga-deadline.options';

/**
 * Gives up on sagas that ran past their deadline: every sweep interval, fails the orders still
 * PENDING that were placed more than the deadline ago (ADR 0018). Every replica of ordering runs
 * one; they need no coordination, because each order is expired under its stream's lock and only
 * once. One sweep runs at a time, and the timer never keeps the process alive.
 */
@Injectable()
export class SagaDeadlineSweeper implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('SagaDeadlineSweeper');
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly commands: CommandBus,
    @Inject(SAGA_DEADLINE_OPTIONS) private readonly options: SagaDeadlineOptions,
  ) {}

  onModuleInit(): void {
    this.stopped = false;
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // The data source closes at shutdown: let a sweep under way finish first.
    await this.sweeping;
  }

  /** One sweep now; returns the orders it failed. */
  async sweep(now = new Date()): Promise<string[]> {
    const placedBefore = new Date(now.getTime() - this.options.deadlineMs);
    const { expired } = await this.commands.execute(new ExpireOverdueOrdersCommand(placedBefore, now));
    return expired;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'saga deadline sweep failed; trying again'))
        .finally(() => {
          this.sweeping = undefined;
          this.schedule();
        });
    }, this.options.sweepIntervalMs);
    this.timer.unref();
  }
}
