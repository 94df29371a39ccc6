import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Caller } from '@contracts/kernel';

/** What identity signs with, and nothing else: never `none`, never an HMAC (RFC 8725 §3.1). */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256'];
/** Allowed drift between identity's clock and ours, for `exp`, `nbf` and `iat`. */
const CLOCK_TOLERANCE_SECONDS = 30;
/**
 * Identity's access tokens live 15 minutes: one issued (`iat`) longer ago than this, or in the
 * future, was not issued as one, whatever its `exp` says.
 */
const MAX_TOKEN_AGE = '1h';

/** The claims an access token must carry to be one of ours. */
export interface AccessTokenRules {
  readonly type: string;
  readonly issuer: string;
  readonly audience: string;
}

/**
 * Verifies an access token per RFC 8725 and returns the end user it names: only ES256 (`none`
 * and HMAC tokens cannot pass, whatever their header says), the given `typ`, `iss` and `aud`,
 * `exp`, `nbf` and `iat` required and checked with 30 s of clock skew. Throws jose's errors.
 */
export async function verifyAccessToken(token: string, keys: JWTVerifyGetKey, rules: AccessTokenRules): Promise<Caller> {
  const { payload } = await jwtVerify(token, keys, {
    algorithms: ACCESS_TOKEN_ALGORITHMS,
    typ: rules.type,
    issuer: rules.issuer,
    audience: rules.audience,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    maxTokenAge: MAX_TOKEN_AGE,
    requiredClaims: ['sub', 'exp', 'nbf', 'iat'],
  });
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw new errors.JWTClaimValidationFailed('"sub" claim must be a non-empty string', payload, 'sub', 'check_failed');
  }
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
  return { subject: payload.sub, roles };
}
