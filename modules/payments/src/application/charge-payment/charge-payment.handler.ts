import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PaymentCompleted, PaymentFailed } from '@contracts/payments';
import { UnitOfWork } from '@infra/persistence';
import { readyToCharge, settle } from '../../domain/payment';
import { PaymentRepository } from '../../persistence/payment.repository';
import { CardCharges } from '../card-charges';
import { ChargePaymentCommand } from './charge-payment.command';

/**
 * Saga step: priced and stock reserved → charge the order, once (the order id is the provider's
 * idempotency key), with the token of the payment method it took from the vault. Settled, the
 * token is erased: no charge of this order needs it again.
 */
@CommandHandler(ChargePaymentCommand)
export class ChargePaymentHandler implements ICommandHandler<ChargePaymentCommand, void> {
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
        return;
      }
      const settled = settle(payment, await this.cards.charge(payment));
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
