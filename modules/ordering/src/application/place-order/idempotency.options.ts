import { z } from 'zod';

export interface IdempotencyOptions {
  /** How long a key answers for its first request; after that it is a new key. */
  readonly ttlHours: number;
}

export const IDEMPOTENCY_OPTIONS = Symbol('IdempotencyOptions');

const EnvSchema = z.object({
  FICUS_IDEMPOTENCY_TTL_HOURS: z.coerce
    .number({ error: 'FICUS_IDEMPOTENCY_TTL_HOURS must be a number of hours' })
    .int()
    .min(1)
    .max(24 * 365)
    .default(24),
});

/** Read by ordering itself: how long a client may retry an order is this context's rule. */
export function idempotencyFromEnv(env: NodeJS.ProcessEnv): IdempotencyOptions {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid idempotency settings: ${lines.join('; ')}`);
  }
  return { ttlHours: result.data.FICUS_IDEMPOTENCY_TTL_HOURS };
}
