import { createHash } from 'node:crypto';
import { normalizeEmail } from './credentials';

/**
 * How many login attempts identity lets through in a window (OWASP's authentication cheat sheet:
 * throttle per account and source rather than lock the account, which anyone could do to anyone).
 * A successful login clears its account's count; the address count only forgets one attempt, so a
 * valid account of one's own cannot reset a guessing run against others.
 */
export interface LoginThrottlePolicy {
  /** Attempts per account and address in a window; the next one is refused. */
  readonly perAccountAndAddress: number;
  /** Attempts per address in a window, whatever the account (credential stuffing). */
  readonly perAddress: number;
  readonly windowSeconds: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottlePolicy = {
  perAccountAndAddress: 5,
  perAddress: 100,
  windowSeconds: 15 * 60,
};

export interface LoginThrottleKeys {
  readonly accountAndAddress: string;
  readonly address: string;
}

/**
 * Keys of the two counters an attempt counts against, hashed so that no email or address is
 * stored. `clientAddress`: the client as counted (one counter for an IPv6 client's network).
 */
export function loginThrottleKeys(email: string, clientAddress: string | undefined): LoginThrottleKeys {
  const address = clientAddress || 'unknown';
  const hash = (value: string) => createHash('sha256').update(value).digest('base64url');
  return {
    accountAndAddress: hash(`account\0${normalizeEmail(email)}\0${address}`),
    address: hash(`address\0${address}`),
  };
}
