import { AsyncResource } from 'node:async_hooks';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import { PeriodicSweep } from '@infra/runtime';
import { EMAIL_SENDER, EmailRefused, type EmailSender } from '../../domain/order-email';
import { EmailDeliveries, type DueEmail } from '../../persistence/email-deliveries.repository';

/** Emails taken at once, sent side by side: no more than the SMTP sender's connections, so none queues. */
const BATCH = 3;
/**
 * How long a taken email is its sender's alone. Far longer than a send may take (SmtpEmailSender:
 * 10 s to connect, 10 s for the greeting, at most 30 s of silence in each of a few commands), so
 * that another sender (a replica, the next sweep) never takes an email still being sent.
 */
const LEASE_MS = 10 * 60_000;
/** How often what is left (a failure's next try, a sender that died holding a lease) is looked for. */
const SWEEP_MS = 5_000;
/** After this many tries (about a day, with the back-off below), an email is given up and said so. */
const MAX_ATTEMPTS = 32;

/** Why a send failed, for the log and the row: bounded, and without the address (servers echo it). */
function reasonOf(error: unknown, address: string): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(new RegExp(address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '<recipient>').slice(0, 500);
}

/** Before the next try: 10 s, doubling, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(10_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/**
 * Sends the emails that notifications recorded, once their transaction has committed: never inside
 * it, where a COMMIT that failed after the send (and the event's retry) would mail the customer
 * twice, and a slow mail server would hold a database connection.
 *
 * An email is queued in the same transaction as its notification (`email_deliveries`), so one that
 * committed is sent even if the process stops right after: the sweep finds it. A stop after the
 * mail server took an email but before its row was deleted sends it again once its lease ends,
 * under the same Message-ID (the notification's id), which some receivers recognise as a repeat.
 */
@Injectable()
export class EmailDispatcher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('EmailDispatcher');
  private readonly sweep: PeriodicSweep;
  /** Sends start in the context the dispatcher was made in, not in the event's that queued them. */
  private readonly scope = new AsyncResource('ficus.EmailDispatcher');
  private draining?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly deliveries: EmailDeliveries,
    @Inject(EMAIL_SENDER) private readonly sender: EmailSender,
  ) {
    this.sweep = new PeriodicSweep({
      name: 'EmailDispatcher',
      everyMs: SWEEP_MS,
      failure: 'emails not sent',
      work: () => this.drain(),
    });
  }

  onModuleInit(): void {
    this.sweep.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.sweep.stop();
    await this.draining?.catch(() => undefined); // its failure was logged; the stop goes on
    this.sender.close?.();
  }

  /**
   * Sends what is due as soon as the open transaction, which queued `queued`, commits. The line
   * that says so is written in the event's own context (its module, order and trace ids); the
   * send's lines name the notification.
   */
  sendAfterCommit(queued: { readonly notification: string; readonly kind: string }): void {
    this.uow.afterCommit(() => {
      this.logger.log(queued, 'email queued');
      this.scope.runInAsyncScope(() => {
        if (this.stopped) return;
        this.drain().catch((error: unknown) =>
          this.logger.warn({ err: error }, 'emails not sent now; the next sweep sends them'),
        );
      });
    });
  }

  /** Sends every email that is due; a call while a round runs makes it look once more, and shares it. */
  drain(): Promise<void> {
    this.again = true;
    // Started after this tick, so that the round clears `draining` only once it has been set.
    this.draining ??= Promise.resolve().then(() => this.drainAll());
    return this.draining;
  }

  private async drainAll(): Promise<void> {
    try {
      // `again` is read and `draining` cleared with no await between: a call of drain() either
      // finds this round (and is looked after by it) or starts the next.
      while (this.again && !this.stopped) {
        this.again = false;
        for (let due = await this.deliveries.claimDue(BATCH, LEASE_MS); ;) {
          // Every send settles before the next claim, and before a stop lets the pool close.
          const failed = (await Promise.allSettled(due.map((email) => this.deliver(email)))).find(
            (outcome) => outcome.status === 'rejected',
          );
          if (failed) throw failed.reason;
          if (due.length < BATCH || this.stopped) break;
          due = await this.deliveries.claimDue(BATCH, LEASE_MS);
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async deliver(email: DueEmail): Promise<void> {
    try {
      await this.sender.send(email);
    } catch (error) {
      const reason = reasonOf(error, email.to);
      if (error instanceof EmailRefused || email.attempts >= MAX_ATTEMPTS) {
        this.logger.error({ notification: email.id, attempts: email.attempts, reason }, 'email given up');
        await this.deliveries.giveUp(email.id, reason);
        return;
      }
      const delayMs = retryDelayMs(email.attempts);
      this.logger.warn({ notification: email.id, attempts: email.attempts, reason, delayMs }, 'email not sent yet');
      await this.deliveries.retryLater(email.id, delayMs, reason);
      return;
    }
    await this.deliveries.sent(email.id);
  }
}
