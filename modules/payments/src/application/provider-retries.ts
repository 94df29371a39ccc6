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
 */
@Injectable()
export class ProviderRetries implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ProviderRetries.name);
  private readonly sweep: PeriodicSweep;

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
      due = due.length === BATCH ? await this.payments.takeDue(BATCH, LEASE_MS) : [];
    }
  }

  onModuleInit(): void {
    this.sweep.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.sweep.stop();
  }
}
