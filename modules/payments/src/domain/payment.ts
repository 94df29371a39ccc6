import type { Money } from '@contracts/kernel';
import type { ChargeOutcome } from './payment-provider';

export type PaymentStatus = 'PENDING' | 'COMPLETED' | 'FAILED';

/**
 * A payment learns two facts from two contexts, in either order: what the order costs and how
 * it pays (ordering's order-created) and that its stock is reserved (inventory's stock-reserved).
 * It is charged once both are known, by whichever arrives second, unless its order has failed
 * by then (a third fact, order-failed, that may come before either); a charged payment whose
 * order fails is refunded.
 */
export interface Payment {
  readonly orderId: string;
  /** Whose order it pays (unknown for payments opened before it was recorded): who may read it. */
  readonly customerId?: string;
  readonly amount?: Money;
  /** How it pays: a payment method of the vault, taken by this order (ADR 0037). */
  readonly paymentMethodId?: string;
  /** Or a card token that a release before the vault kept in plain text; charged from, then erased. */
  readonly token?: string;
  readonly stockReserved: boolean;
  readonly status: PaymentStatus;
  readonly providerReference?: string;
  readonly failureReason?: string;
  /** Its order failed (ordering's order-failed): it is never charged from now on, and refunded if it was. */
  readonly orderFailed: boolean;
  readonly refundReference?: string;
  readonly refundedAt?: string;
  /** A call to the provider that could not be made, due again (ProviderRetries). */
  readonly providerRetry?: ProviderRetryKind;
}

export type ProviderRetryKind = 'charge' | 'refund';

export type ChargeablePayment = Payment & { readonly amount: Money };
export type RefundablePayment = Payment & { readonly amount: Money; readonly providerReference: string };

/**
 * Whether the payment may be charged now: pending, priced and told how it pays, its stock reserved,
 * its order not failed.
 */
export function readyToCharge(payment: Payment): payment is ChargeablePayment {
  return (
    payment.status === 'PENDING' &&
    !payment.orderFailed &&
    payment.stockReserved &&
    payment.amount !== undefined &&
    (payment.paymentMethodId !== undefined || payment.token !== undefined)
  );
}

/**
 * Why a charge is declined without asking the provider: the order named a payment method it could
 * not take (unknown, another customer's, taken by another order, or erased). One reason for all,
 * so an id cannot be probed for whose it is.
 */
export const INVALID_PAYMENT_METHOD = 'invalid-payment-method';

/**
 * Whether the payment must be given back: it was captured and its order then failed (a saga given
 * up at its deadline while the charge was under way or done). Refunded once.
 */
export function needsRefund(payment: Payment): payment is RefundablePayment {
  return (
    payment.orderFailed &&
    payment.status === 'COMPLETED' &&
    payment.refundReference === undefined &&
    payment.amount !== undefined &&
    payment.providerReference !== undefined
  );
}

export function refunded<P extends Payment>(payment: P, refundReference: string, at: string): P {
  if (!needsRefund(payment)) {
    throw new RangeError(`payment of order ${payment.orderId} is not one to refund`);
  }
  return { ...payment, refundReference, refundedAt: at };
}

/** A payment is charged at most once: only a pending payment moves, and only forward. */
export function settle<P extends Payment>(payment: P, outcome: ChargeOutcome): P {
  if (payment.status !== 'PENDING') {
    throw new RangeError(`payment of order ${payment.orderId} is already ${payment.status}`);
  }
  return outcome.outcome === 'approved'
    ? { ...payment, status: 'COMPLETED', providerReference: outcome.reference }
    : { ...payment, status: 'FAILED', failureReason: outcome.reason };
}
