import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { PeriodicSweep } from '@infra/runtime';
import { PaymentRepository } from '../persistence/payment.repository';
import { CancelPaymentCommand } from './cancel-payment/cancel-payment.command';
import { ChargePaymentCommand } from './charge-payment/charge-payment.command';

/** Due provider calls taken at a time, and how long one is left to its taker. */
const BATCH = 10;
const LEASE_MS = 60_000;
/**
 * From this many attempts on, each is logged as an error, for a person to look at: about 25
 * minutes of them, longer than the saga's default deadline, so that a charge (which that deadline
 * ends) does not get there and a refund still not made does.
 */
const ATTEMPTS_TO_LOOK_AT = 30;

/**
 * Makes again, every second, the charges and refunds the provider could not take when their
 * event came (PaymentRepository.retryLater): by the same commands, under the payment's lock, so
 * a retry decides as the first attempt did (a charge whose order failed meanwhile is not made, a
 * refund already recorded is not made again) and keeps the provider's idempotency key. Until the
 * provider answers, or the order fails (the saga's deadline fails an order whose charge never goes
 * through, and its stock is released).
 *
 * Before, the consumer kept the event and tried it again: over Kafka that held every later event of
 * its partition, other customers' orders included, for as long as the provider failed for this one
 * (a card the provider cannot charge now, `tok_provider_error` of the fake: up to the saga's deadline).
 *
 * A charge due again ends when the order fails; a refund only when it is made. What keeps failing
 * stays visible: each row keeps its last error (`provider_retry_last_error`), and from the thirtieth
 * attempt (about 25 minutes) every one is logged as an error.
 */
@Injectable()
export class ProviderRetries implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ProviderRetries.name);
  private readonly sweep: PeriodicSweep;
  private stopping = false;

  constructor(
    private readonly payments: PaymentRepository,
    private readonly commands: CommandBus,
  ) {
    this.sweep = new PeriodicSweep({
      name: 'ProviderRetries',
      everyMs: 1_000,
      failure: 'provider calls due again not made',
      work: () => this.retryDue(),
    });
  }

  /** Makes every call due now (the timer's work; a test's too). */
  async retryDue(): Promise<void> {
    for (let due = await this.payments.takeDue(BATCH, LEASE_MS); due.length > 0;) {
      for (const call of due) {
        // A stopping process leaves the rest to their lease: another process takes them then.
        if (this.stopping) return;
        if (call.attempts >= ATTEMPTS_TO_LOOK_AT) {
          this.logger.error(
            { order_id: call.orderId, attempts: call.attempts },
            `payment ${call.kind} still not made: the provider has not taken it for ${call.attempts} attempts`,
          );
        }
        try {
          await this.commands.execute(
            call.kind === 'charge'
              ? new ChargePaymentCommand(call.orderId, call.origin)
              : new CancelPaymentCommand(call.orderId, call.reason, call.origin),
          );
        } catch (error) {
          // Taken for a while: it is due again once its lease ends.
          this.logger.warn({ order_id: call.orderId, err: error }, `payment ${call.kind} retry failed`);
        }
      }
      due = due.length === BATCH && !this.stopping ? await this.payments.takeDue(BATCH, LEASE_MS) : [];
    }
  }

  onModuleInit(): void {
    this.sweep.start();
  }

  onModuleDestroy(): Promise<void> {
    this.stopping = true;
    return this.sweep.stop();
  }
}
