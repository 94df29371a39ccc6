import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PaymentCompleted, PaymentFailed } from '@contracts/payments';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import { INVALID_PAYMENT_METHOD, readyToCharge, settle, type ChargeablePayment } from '../../domain/payment';
import { PAYMENT_PROVIDER, type ChargeOutcome, type PaymentProvider } from '../../domain/payment-provider';
import { PaymentMethodVault } from '../../persistence/payment-method.vault';
import { PaymentRepository } from '../../persistence/payment.repository';
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
    private readonly outbox: Outbox,
    private readonly vault: PaymentMethodVault,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
  ) {}

  async execute(command: ChargePaymentCommand): Promise<void> {
    await this.uow.transaction(async () => {
      const payment = await this.payments.find(command.orderId, { lock: true });
      // Charged by whichever of order-created and stock-reserved arrives second (any order).
      if (!payment || !readyToCharge(payment)) {
        // Its order failed before order-created came: the payment method it took now pays for nothing.
        if (payment?.orderFailed) await this.vault.eraseTokenOf(command.orderId);
        return;
      }
      const settled = settle(payment, await this.charge(payment));
      await this.payments.save(settled);
      await this.vault.eraseTokenOf(settled.orderId);
      await this.outbox.add(
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

  /** A payment method the order could not take is declined here: the provider never sees a charge for it. */
  private async charge(payment: ChargeablePayment): Promise<ChargeOutcome> {
    // A token the previous release kept in plain text (a payment it opened) is charged from as it is.
    const token =
      payment.token ??
      (payment.paymentMethodId === undefined
        ? undefined
        : await this.vault.tokenFor(payment.orderId, payment.paymentMethodId));
    if (token === undefined) return { outcome: 'declined', reason: INVALID_PAYMENT_METHOD };
    return this.provider.charge({ idempotencyKey: `order:${payment.orderId}`, amount: payment.amount, token });
  }
}
