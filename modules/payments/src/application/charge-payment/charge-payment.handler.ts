import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PaymentCompleted, PaymentFailed } from '@contracts/payments';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import { readyToCharge, settle } from '../../domain/payment';
import { PAYMENT_PROVIDER, type PaymentProvider } from '../../domain/payment-provider';
import { PaymentRepository } from '../../persistence/payment.repository';
import { ChargePaymentCommand } from './charge-payment.command';

/** Saga step: priced and stock reserved → charge the order, once (the order id is the provider's idempotency key). */
@CommandHandler(ChargePaymentCommand)
export class ChargePaymentHandler implements ICommandHandler<ChargePaymentCommand, void> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly payments: PaymentRepository,
    private readonly outbox: Outbox,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
  ) {}

  async execute(command: ChargePaymentCommand): Promise<void> {
    await this.uow.transaction(async () => {
      const payment = await this.payments.find(command.orderId, { lock: true });
      // Charged by whichever of order-created and stock-reserved arrives second (any order).
      if (!payment || !readyToCharge(payment)) {
        return;
      }
      const outcome = await this.provider.charge({
        idempotencyKey: `order:${payment.orderId}`,
        amount: payment.amount,
        token: payment.token,
      });
      const settled = settle(payment, outcome);
      await this.payments.save(settled);
      await this.outbox.add(
        settled.status === 'COMPLETED'
          ? PaymentCompleted.create(
              { orderId: settled.orderId, customerId: settled.customerId, amount: settled.amount, providerReference: settled.providerReference! },
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
