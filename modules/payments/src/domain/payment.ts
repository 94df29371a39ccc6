import type { Money } from '@contracts/kernel';
import type { ChargeOutcome } from './payment-provider';

export type PaymentStatus = 'PENDING' | 'COMPLETED' | 'FAILED';

/**
 * A payment learns two facts from two contexts, in either order: what the order costs and how
 * it pays (ordering's order-created) and that its stock is reserved (inventory's stock-reserved).
 * It is charged once both are known, by whichever arrives second.
 */
export interface Payment {
  readonly orderId: string;
  readonly amount?: Money;
  readonly token?: string;
  readonly stockReserved: boolean;
  readonly status: PaymentStatus;
  readonly providerReference?: string;
  readonly failureReason?: string;
}

export type ChargeablePayment = Payment & { readonly amount: Money; readonly token: string };

/** Whether the payment may be charged now: pending, priced, and its stock reserved. */
export function readyToCharge(payment: Payment): payment is ChargeablePayment {
  return payment.status === 'PENDING' && payment.stockReserved && payment.amount !== undefined && payment.token !== undefined;
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
