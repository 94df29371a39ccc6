import { Inject, Injectable } from '@nestjs/common';
import {
  INVALID_PAYMENT_METHOD,
  type ChargeablePayment,
  type Payment,
  type RefundablePayment,
} from '../domain/payment';
import {
  PAYMENT_PROVIDER,
  type ChargeOutcome,
  type PaymentProvider,
  type RefundOutcome,
} from '../domain/payment-provider';
import { PaymentMethodVault } from '../persistence/payment-method.vault';

/**
 * What payments asks of the payment provider, with the card tokens the vault keeps. Every call is
 * keyed by its order (`order:<id>` for the charge, `refund:order:<id>` for its refund), so a step
 * delivered twice charges or refunds once, and a charge whose answer was lost can be looked up.
 */
@Injectable()
export class CardCharges {
  constructor(
    private readonly vault: PaymentMethodVault,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
  ) {}

  /** A payment method the order could not take is declined here: the provider never sees a charge for it. */
  async charge(payment: ChargeablePayment): Promise<ChargeOutcome> {
    // A token the previous release kept in plain text (a payment it opened) is charged from as it is.
    const token =
      payment.token ??
      (payment.paymentMethodId === undefined
        ? undefined
        : await this.vault.tokenFor(payment.orderId, payment.paymentMethodId));
    if (token === undefined) return { outcome: 'declined', reason: INVALID_PAYMENT_METHOD };
    return this.provider.charge({ idempotencyKey: chargeKey(payment), amount: payment.amount, token });
  }

  /** What became of the order's charge, if one was made (the provider's answer when ours was lost). */
  chargeMadeFor(payment: Payment): Promise<ChargeOutcome | undefined> {
    return this.provider.findCharge(chargeKey(payment));
  }

  refund(payment: RefundablePayment): Promise<RefundOutcome> {
    return this.provider.refund({
      idempotencyKey: `refund:${chargeKey(payment)}`,
      chargeReference: payment.providerReference,
      amount: payment.amount,
    });
  }

  /** The order's card token goes: nothing charges it again. */
  forgetCard(orderId: string): Promise<void> {
    return this.vault.eraseTokenOf(orderId);
  }
}

function chargeKey(payment: Pick<Payment, 'orderId'>): string {
  return `order:${payment.orderId}`;
}
