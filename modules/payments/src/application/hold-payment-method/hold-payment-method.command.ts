import { Command } from '@nestjs/cqrs';

/** A customer's card token, to be kept in the vault. */
export class HoldPaymentMethodCommand extends Command<{ paymentMethodId: string; fingerprint: string }> {
  constructor(
    readonly customerId: string,
    readonly token: string,
  ) {
    super();
  }
}
