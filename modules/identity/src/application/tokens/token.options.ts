import { AccessTokenClaimVariables, accessTokenClaimsOf } from '@contracts/identity';
import { defineSettings, optionalText, wholeNumber } from '@infra/config';

export interface TokenOptions {
  /** How long a refresh token can be traded for new tokens. */
  readonly refreshTokenTtlHours: number;
  /** A signing key older than this is replaced by a new one (at start-up, or when next loaded). */
  readonly signingKeyRotateDays: number;
}

/** Identity's own: how long a sign-in lasts is this context's rule. */
export const TokenSettings = defineSettings(
  'identity: tokens',
  {
    FICUS_REFRESH_TOKEN_TTL_HOURS: wholeNumber({ min: 1, max: 24 * 365, default: 720, unit: 'hours' }),
    FICUS_SIGNING_KEY_ROTATE_DAYS: wholeNumber({ min: 1, max: 3650, default: 30, unit: 'days' }),
  },
  (values): TokenOptions => ({
    refreshTokenTtlHours: values.FICUS_REFRESH_TOKEN_TTL_HOURS,
    signingKeyRotateDays: values.FICUS_SIGNING_KEY_ROTATE_DAYS,
  }),
);

export const TOKEN_OPTIONS = TokenSettings.token;

/** The `iss` and `aud` identity signs into an access token; whoever verifies one reads the same variables. */
export const IssuerClaimsSettings = defineSettings(
  'identity: access-token claims',
  AccessTokenClaimVariables,
  accessTokenClaimsOf,
);

/**
 * FICUS_ADMIN_EMAILS is retired (registering never makes an admin): read only to warn whoever
 * still sets it.
 */
export const RetiredAdminEmailsSettings = defineSettings(
  'identity: retired variables',
  { FICUS_ADMIN_EMAILS: optionalText() },
  (values) => ({ adminEmailsSet: values.FICUS_ADMIN_EMAILS !== undefined }),
);
