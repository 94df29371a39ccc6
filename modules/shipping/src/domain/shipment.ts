import { randomInt } from 'node:crypto';

export interface Shipment {
  readonly shipmentId: string;
  readonly orderId: string;
  /** Whose order it ships (unknown for shipments from before it was recorded): who may read it. */
  readonly customerId?: string;
  readonly trackingNumber: string;
  /** CANCELLED: its order failed after the shipment was created; nothing leaves the warehouse. */
  readonly status: 'CREATED' | 'CANCELLED';
  readonly createdAt: string;
  readonly cancelledAt?: string;
}

/** Tracking numbers look like FC-1234-5678-90: short enough to read out on the phone. */
export function newTrackingNumber(random: (max: number) => number = (max) => randomInt(max)): string {
  const digits = Array.from({ length: 10 }, () => random(10)).join('');
  return `FC-${digits.slice(0, 4)}-${digits.slice(4, 8)}-${digits.slice(8)}`;
}

export const TRACKING_NUMBER = /^FC-\d{4}-\d{4}-\d{2}$/;
