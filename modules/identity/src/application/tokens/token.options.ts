import { z } from 'zod';

export interface TokenOptions {
  /** How long a refresh token can be traded for new tokens. */
  readonly refreshTokenTtlHours: number;
  /** A signing key older than this is replaced by a new one (at start-up, or when next loaded). */
  readonly signingKeyRotateDays: number;
}

export const TOKEN_OPTIONS = Symbol('TokenOptions');

const EnvSchema = z.object({
  FICUS_REFRESH_TOKEN_TTL_HOURS: z.coerce
    .number({ error: 'FICUS_REFRESH_TOKEN_TTL_HOURS must be a number of hours' })
    .int()
    .min(1)
    .max(24 * 365)
    .default(720),
  FICUS_SIGNING_KEY_ROTATE_DAYS: z.coerce
    .number({ error: 'FICUS_SIGNING_KEY_ROTATE_DAYS must be a number of days' })
    .int()
    .min(1)
    .max(3650)
    .default(30),
});

/** Read by identity itself: how long a sign-in lasts is this context's rule. */
export function tokenOptionsFromEnv(env: NodeJS.ProcessEnv): TokenOptions {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid token settings: ${lines.join('; ')}`);
  }
  return {
    refreshTokenTtlHours: result.data.FICUS_REFRESH_TOKEN_TTL_HOURS,
    signingKeyRotateDays: result.data.FICUS_SIGNING_KEY_ROTATE_DAYS,
  };
}
