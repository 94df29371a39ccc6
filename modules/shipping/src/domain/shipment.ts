import { randomInt } from 'node:crypto';

export interface Shipment {
  readonly shipmentId: string;
  readonly orderId: string;
  readonly trackingNumber: string;
  readonly status: 'CREATED';
  readonly createdAt: string;
}

/** Tracking numbers look like FC-1234-5678-90: short enough to read out on the phone. */
export function newTrackingNumber(random: (max: number) => number = (max) => randomInt(max)): string {
  const digits = Array.from({ length: 10 }, () => random(10)).join('');
  return `FC-${digits.slice(0, 4)}-${digits.slice(4, 8)}-${digits.slice(8)}`;
}

export const TRACKING_NUMBER = /^FC-\d{4}-\d{4}-\d{2}$/;
