import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PaymentRefunded } from '@contracts/payments';
import { UnitOfWork } from '@infra/persistence';
import { needsRefund, refunded, settle, type Payment } from '../../domain/payment';
import { PaymentProviderUnavailable } from '../../domain/payment-provider';
import { PaymentRepository } from '../../persistence/payment.repository';
import { CardCharges } from '../card-charges';
import { CancelPaymentCommand } from './cancel-payment.command';

/**
 * Saga compensation: the order failed. The payment learns it first, under the row's lock, so a
 * charge that has not happened yet never will (whichever fact would have made it chargeable comes
 * later); a charge under way holds that lock, finishes first, and is then refunded. A captured
 * payment is refunded once: the provider's idempotency key is the order's, and a refund already
 * recorded is not made again. A provider that cannot answer now leaves the refund due again on
 * the payment (ProviderRetries); the failure is learnt all the same, and the event handled.
 */
@CommandHandler(CancelPaymentCommand)
export class CancelPaymentHandler implements ICommandHandler<CancelPaymentCommand, { refunded: boolean }> {
  private readonly logger = new Logger(CancelPaymentHandler.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly payments: PaymentRepository,
    private readonly cards: CardCharges,
  ) {}

  async execute(command: CancelPaymentCommand): Promise<{ refunded: boolean }> {
    return this.uow.transaction(async () => {
      await this.payments.learnOrderFailed(command.orderId);
      // Never charged from now on: its card token goes (ChargePaymentHandler erases one that comes later).
      await this.cards.forgetCard(command.orderId);
      const payment = await this.payments.find(command.orderId, { lock: true });
      try {
        return await this.refundIfCharged(payment, command);
      } catch (error) {
        if (!(error instanceof PaymentProviderUnavailable)) throw error;
        this.logger.warn({ order_id: command.orderId, err: error }, 'payment provider unavailable: refund due again');
        await this.payments.retryLater(command.orderId, {
          kind: 'refund',
          origin: command.origin,
          reason: command.reason,
          error: error.message,
        });
        return { refunded: false };
      }
    });
  }

  private async refundIfCharged(
    found: Payment | undefined,
    command: CancelPaymentCommand,
  ): Promise<{ refunded: boolean }> {
    let payment = found;
    // A charge may have gone through although we never recorded it (the provider answered after
    // our deadline, or our transaction rolled back after the charge): ask the provider, so the
    // money is given back rather than kept for an order that failed.
    if (payment?.status === 'PENDING' && payment.amount !== undefined) {
      const lost = await this.cards.chargeMadeFor(payment);
      if (lost?.outcome === 'approved') payment = settle(payment, lost);
    }
    if (!payment || !needsRefund(payment)) {
      // A charge that was due again never will be: the order failed before it went through.
      if (payment?.providerRetry) await this.payments.endRetry(command.orderId);
      return { refunded: false };
    }
    const refund = await this.cards.refund(payment);
    const done = refunded(payment, refund.reference, new Date().toISOString());
    await this.payments.record(
      done,
      PaymentRefunded.create(
        {
          orderId: done.orderId,
          amount: done.amount,
          providerReference: done.providerReference,
          refundReference: refund.reference,
          reason: command.reason,
        },
        command.origin,
      ),
    );
    return { refunded: true };
  }
}
