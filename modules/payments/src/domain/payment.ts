import type { Money } from '@contracts/kernel';
import type { ChargeOutcome } from './payment-provider';

export type PaymentStatus = 'PENDING' | 'COMPLETED' | 'FAILED';

export interface Payment {
  readonly orderId: string;
  readonly amount: Money;
  readonly token: string;
  readonly status: PaymentStatus;
  readonly providerReference?: string;
  readonly failureReason?: string;
}

/** A payment is charged at most once: only a pending payment moves, and only forward. */
export function settle(payment: Payment, outcome: ChargeOutcome): Payment {
  if (payment.status !== 'PENDING') {
    throw new RangeError(`payment of order ${payment.orderId} is already ${payment.status}`);
  }
  return outcome.outcome === 'approved'
    ? { ...payment, status: 'COMPLETED', providerReference: outcome.reference }
    : { ...payment, status: 'FAILED', failureReason: outcome.reason };
}
