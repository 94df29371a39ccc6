import { z } from 'zod';

export interface SagaDeadlineOptions {
  /** How long an order may stay PENDING before its saga is given up and compensated. */
  readonly deadlineMs: number;
  /** How often the sweeper looks for orders past the deadline. */
  readonly sweepIntervalMs: number;
}

export const SAGA_DEADLINE_OPTIONS = Symbol('SagaDeadlineOptions');

const DEFAULT_DEADLINE_MS = 15 * 60_000;
const MAX_SWEEP_INTERVAL_MS = 30_000;
const MIN_SWEEP_INTERVAL_MS = 100;

const EnvSchema = z.object({
  FICUS_SAGA_DEADLINE_MS: z.coerce
    .number({ error: 'FICUS_SAGA_DEADLINE_MS must be a number of milliseconds' })
    .int()
    .min(100)
    .max(7 * 24 * 3_600_000)
    .default(DEFAULT_DEADLINE_MS),
});

/**
 * Read by ordering itself, as payments reads its provider's settings: the deadline is a business
 * rule of this context, not machinery of the process (infra/ has no business words). An order is
 * overdue at most one sweep interval after its deadline: a quarter of the deadline, between
 * 100 ms and 30 s.
 */
export function sagaDeadlineFromEnv(env: NodeJS.ProcessEnv): SagaDeadlineOptions {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid saga deadline settings: ${lines.join('; ')}`);
  }
  const deadlineMs = result.data.FICUS_SAGA_DEADLINE_MS;
  return {
    deadlineMs,
    sweepIntervalMs: Math.max(MIN_SWEEP_INTERVAL_MS, Math.min(Math.floor(deadlineMs / 4), MAX_SWEEP_INTERVAL_MS)),
  };
}
