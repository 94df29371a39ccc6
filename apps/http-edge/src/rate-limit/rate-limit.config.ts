import { z } from 'zod';
import { defineSettings, flag } from '@infra/config';

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
  /**
   * Whom a counter belongs to: `caller` (default), the token's subject when the request carries a
   * valid token, else the address; `address`, always the client's address. Routes open to anyone
   * count by address: there a token is no credential, and each account a client holds would
   * otherwise buy it another counter.
   */
  readonly countsBy?: 'caller' | 'address';
}

export interface RateLimitOptions {
  readonly enabled: boolean;
  /** Checked in order; the first that matches a request counts it. The last one matches all. */
  readonly rules: readonly RateLimitRule[];
}

const LIMIT = /^(\d{1,9})\/(\d{1,6})s$/;

const Limit = (name: string, fallback: string) =>
  z
    .string()
    .optional()
    .transform((text) => (text?.trim() ? text : fallback))
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

/**
 * The edge's rate limits. Placing orders and signing up or in are limited harder than reads: they
 * cost the most (an order starts a saga, a login hashes with argon2id) and they are what scripted
 * abuse goes for (card testing, credential stuffing).
 */
export const RateLimitSettings = defineSettings(
  'edge: rate limits',
  {
    FICUS_RATE_LIMIT: flag(true), // on/off
    FICUS_RATE_LIMIT_DEFAULT: Limit('FICUS_RATE_LIMIT_DEFAULT', '100/60s'),
    FICUS_RATE_LIMIT_ORDERS: Limit('FICUS_RATE_LIMIT_ORDERS', '10/60s'),
    FICUS_RATE_LIMIT_IDENTITY: Limit('FICUS_RATE_LIMIT_IDENTITY', '10/60s'),
  },
  (settings): RateLimitOptions => ({
    enabled: settings.FICUS_RATE_LIMIT,
    rules: [
      { name: 'orders', method: 'POST', path: /^\/orders$/, ...settings.FICUS_RATE_LIMIT_ORDERS },
      {
        name: 'identity',
        method: 'POST',
        path: /^\/identity\//,
        countsBy: 'address',
        ...settings.FICUS_RATE_LIMIT_IDENTITY,
      },
      { name: 'default', ...settings.FICUS_RATE_LIMIT_DEFAULT },
    ],
  }),
);
