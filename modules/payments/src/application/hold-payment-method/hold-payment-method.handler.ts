import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { PaymentMethodVault } from '../../persistence/payment-method.vault';
import { HoldPaymentMethodCommand } from './hold-payment-method.command';

/**
 * Keeps a card token in the vault, for the customer, under a new id: each call holds it anew (a
 * retried order gets another id and the same fingerprint); what no order takes is erased a day later.
 */
@CommandHandler(HoldPaymentMethodCommand)
export class HoldPaymentMethodHandler implements ICommandHandler<
  HoldPaymentMethodCommand,
  { paymentMethodId: string; fingerprint: string }
> {
  constructor(private readonly vault: PaymentMethodVault) {}

  execute(command: HoldPaymentMethodCommand): Promise<{ paymentMethodId: string; fingerprint: string }> {
    return this.vault.hold(command.customerId, command.token);
  }
}
