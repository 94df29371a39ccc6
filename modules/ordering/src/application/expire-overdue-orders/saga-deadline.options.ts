import { defineSettings, wholeNumber } from '@infra/config';

export interface SagaDeadlineOptions {
  /** How long an order may stay PENDING before its saga is given up and compensated. */
  readonly deadlineMs: number;
  /** How often the sweeper looks for orders past the deadline. */
  readonly sweepIntervalMs: number;
}

const DEFAULT_DEADLINE_MS = 15 * 60_000;
const MAX_SWEEP_INTERVAL_MS = 30_000;
const MIN_SWEEP_INTERVAL_MS = 100;

/**
 * Ordering's own, as payments has its provider's settings: the deadline is a business rule of
 * this context, not machinery of the process (infra/ has no business words). An order is overdue
 * at most one sweep interval after its deadline: a quarter of the deadline, between 100 ms and 30 s.
 */
export const SagaDeadlineSettings = defineSettings(
  'ordering: saga deadline',
  {
    FICUS_SAGA_DEADLINE_MS: wholeNumber({
      min: 100,
      max: 7 * 24 * 3_600_000,
      default: DEFAULT_DEADLINE_MS,
      unit: 'milliseconds',
    }),
  },
  ({ FICUS_SAGA_DEADLINE_MS: deadlineMs }): SagaDeadlineOptions => ({
    deadlineMs,
    sweepIntervalMs: Math.max(MIN_SWEEP_INTERVAL_MS, Math.min(Math.floor(deadlineMs / 4), MAX_SWEEP_INTERVAL_MS)),
  }),
);

export const SAGA_DEADLINE_OPTIONS = SagaDeadlineSettings.token;
