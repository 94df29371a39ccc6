import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PaymentCompleted, PaymentFailed } from '@contracts/payments';
import { UnitOfWork } from '@infra/persistence';
import { readyToCharge, settle } from '../../domain/payment';
import { PaymentProviderUnavailable, type ChargeOutcome } from '../../domain/payment-provider';
import { PaymentRepository } from '../../persistence/payment.repository';
import { CardCharges } from '../card-charges';
import { ChargePaymentCommand } from './charge-payment.command';

/**
 * Saga step: priced and stock reserved → charge the order, once (the order id is the provider's
 * idempotency key), with the token of the payment method it took from the vault. Settled, the
 * token is erased: no charge of this order needs it again. A provider that cannot answer now
 * leaves the charge due again on the payment (ProviderRetries), and the event is handled: no
 * event after it waits for the provider.
 */
@CommandHandler(ChargePaymentCommand)
export class ChargePaymentHandler implements ICommandHandler<ChargePaymentCommand, void> {
  private readonly logger = new Logger(ChargePaymentHandler.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly payments: PaymentRepository,
    private readonly cards: CardCharges,
  ) {}

  async execute(command: ChargePaymentCommand): Promise<void> {
    await this.uow.transaction(async () => {
      const payment = await this.payments.find(command.orderId, { lock: true });
      // Charged by whichever of order-created and stock-reserved arrives second (any order).
      if (!payment || !readyToCharge(payment)) {
        // Its order failed before order-created came: the payment method it took now pays for nothing.
        if (payment?.orderFailed) await this.cards.forgetCard(command.orderId);
        if (payment?.providerRetry === 'charge') await this.payments.endRetry(command.orderId);
        return;
      }
      let outcome: ChargeOutcome;
      try {
        outcome = await this.cards.charge(payment);
      } catch (error) {
        if (!(error instanceof PaymentProviderUnavailable)) throw error;
        this.logger.warn({ order_id: command.orderId, err: error }, 'payment provider unavailable: charge due again');
        await this.payments.retryLater(command.orderId, {
          kind: 'charge',
          origin: command.origin,
          error: error.message,
        });
        return;
      }
      const settled = settle(payment, outcome);
      await this.cards.forgetCard(settled.orderId);
      await this.payments.record(
        settled,
        settled.status === 'COMPLETED'
          ? PaymentCompleted.create(
              {
                orderId: settled.orderId,
                customerId: settled.customerId,
                amount: settled.amount,
                providerReference: settled.providerReference!,
              },
              command.origin,
            )
          : PaymentFailed.create(
              { orderId: settled.orderId, amount: settled.amount, reason: settled.failureReason! },
              command.origin,
            ),
      );
    });
  }
}
