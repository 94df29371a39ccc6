/**
 * How often a registration may mail an address. Registering needs no account, so without a limit
 * per address anyone could have the shop mail a stranger without end, a link or a warning at a
 * time, from as many sources as the per-source rate limit lets through (OWASP's forgot-password
 * and authentication cheat sheets: limit what an unauthenticated request can send). Counted per
 * account and kind of email, so a new link and the warning that someone else tried to register
 * do not hold each other back.
 */
export interface AccountEmailPolicy {
  /** After an email of a kind, the next of that kind waits this long. */
  readonly cooldownSeconds: number;
  /** Emails of a kind per window, the first of them included. */
  readonly perWindow: number;
  readonly windowSeconds: number;
}

export const DEFAULT_ACCOUNT_EMAILS: AccountEmailPolicy = {
  cooldownSeconds: 60,
  perWindow: 5,
  windowSeconds: 24 * 60 * 60,
};

/** The account emails a registration sends: a confirmation link, or the warning to a confirmed account's owner. */
export type AccountEmailKind = 'email-confirmation' | 'registration-attempted';
