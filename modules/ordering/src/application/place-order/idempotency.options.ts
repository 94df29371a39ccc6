import { defineSettings, wholeNumber } from '@infra/config';

export interface IdempotencyOptions {
  /** How long a key answers for its first request; after that it is a new key. */
  readonly ttlHours: number;
}

/** Ordering's own: how long a client may retry an order is this context's rule. */
export const IdempotencySettings = defineSettings(
  'ordering: idempotency',
  { FICUS_IDEMPOTENCY_TTL_HOURS: wholeNumber({ min: 1, max: 24 * 365, default: 24, unit: 'hours' }) },
  (values): IdempotencyOptions => ({ ttlHours: values.FICUS_IDEMPOTENCY_TTL_HOURS }),
);

export const IDEMPOTENCY_OPTIONS = IdempotencySettings.token;
