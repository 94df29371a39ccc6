import type { Money } from '@contracts/kernel';

/** The edge of the world: whoever actually moves the money. */
export interface PaymentProvider {
  /**
   * Charges `amount` to the customer's `token`. Calling twice with the same idempotency key
   * charges once and answers the same, as real providers promise.
   */
  charge(request: { idempotencyKey: string; amount: Money; token: string }): Promise<ChargeOutcome>;

  /**
   * Gives back `amount` of an approved charge (`chargeReference`). Idempotent like `charge`: the
   * same key refunds once and answers the same refund reference.
   */
  refund(request: { idempotencyKey: string; chargeReference: string; amount: Money }): Promise<RefundOutcome>;

  /**
   * What became of the charge made with `idempotencyKey`, if one was made: the provider's answer
   * when ours was lost (a timeout, or our transaction rolled back after the charge), as real
   * providers let one look a payment up by its idempotency key.
   */
  findCharge(idempotencyKey: string): Promise<ChargeOutcome | undefined>;
}

export interface RefundOutcome {
  readonly reference: string;
}

export type ChargeOutcome =
  | { readonly outcome: 'approved'; readonly reference: string }
  | { readonly outcome: 'declined'; readonly reason: string };

/** A provider that could not answer now; the charge is retried with the same idempotency key. */
export class PaymentProviderUnavailable extends Error {
  override readonly name = 'PaymentProviderUnavailable';
  /** May pass by itself: the charge or refund is due again on the payment (ADR 0055), never dead-lettered. */
  readonly transient = true;
}

export const PAYMENT_PROVIDER = Symbol('PaymentProvider');
