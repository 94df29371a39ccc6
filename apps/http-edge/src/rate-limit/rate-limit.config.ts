import { z } from 'zod';

/** At most `limit` requests per `windowSeconds`, counted in fixed windows. */
export interface RateLimit {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** A limit and the requests it counts; each client gets its own counter per rule and route. */
export interface RateLimitRule extends RateLimit {
  readonly name: string;
  readonly method?: string;
  readonly path?: RegExp;
}

export interface RateLimitSettings {
  readonly enabled: boolean;
  /** Checked in order; the first that matches a request counts it. The last one matches all. */
  readonly rules: readonly RateLimitRule[];
}

const LIMIT = /^(\d{1,9})\/(\d{1,6})s$/;

const Limit = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx): RateLimit => {
      const match = LIMIT.exec(text.trim());
      const limit = Number(match?.[1]);
      const windowSeconds = Number(match?.[2]);
      if (!match || limit < 1 || windowSeconds < 1 || windowSeconds > 86_400) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must read <requests>/<seconds>s, e.g. ${fallback} (window 1 s to 1 day)`,
        });
        return z.NEVER;
      }
      return { limit, windowSeconds };
    });

const EnvSchema = z.object({
  FICUS_RATE_LIMIT: z.enum(['on', 'off']).default('on'),
  FICUS_RATE_LIMIT_DEFAULT: Limit('FICUS_RATE_LIMIT_DEFAULT', '100/60s'),
  FICUS_RATE_LIMIT_ORDERS: Limit('FICUS_RATE_LIMIT_ORDERS', '10/60s'),
  FICUS_RATE_LIMIT_IDENTITY: Limit('FICUS_RATE_LIMIT_IDENTITY', '10/60s'),
});

/**
 * The edge's rate limits, from the environment. Placing orders and signing up or in are limited
 * harder than reads: they cost the most (an order starts a saga, a login hashes with argon2id)
 * and they are what scripted abuse goes for (card testing, credential stuffing).
 */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimitSettings {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid rate limit settings: ${lines.join('; ')}`);
  }
  const settings = result.data;
  return {
    enabled: settings.FICUS_RATE_LIMIT === 'on',
    rules: [
      { name: 'orders', method: 'POST', path: /^\/orders$/, ...settings.FICUS_RATE_LIMIT_ORDERS },
      { name: 'identity', method: 'POST', path: /^\/identity\//, ...settings.FICUS_RATE_LIMIT_IDENTITY },
      { name: 'default', ...settings.FICUS_RATE_LIMIT_DEFAULT },
    ],
  };
}
