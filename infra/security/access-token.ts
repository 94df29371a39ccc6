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
export async function verifyAccessToken(
  token: string,
  keys: JWTVerifyGetKey,
  rules: AccessTokenRules,
): Promise<Caller> {
  return (await verifyAccessTokenFully(token, keys, rules)).caller;
}

/** A verified access token: its end user, the key that signed it, and until when it is valid. */
export interface VerifiedAccessToken {
  readonly caller: Caller;
  readonly kid: string | undefined;
  /** Past this instant (ms) the token fails verification: `exp` plus the skew, or `iat` plus the maximum age. */
  readonly validUntil: number;
}

/** verifyAccessToken, with what a cache of verified tokens needs to know (VerifiedTokens). */
export async function verifyAccessTokenFully(
  token: string,
  keys: JWTVerifyGetKey,
  rules: AccessTokenRules,
): Promise<VerifiedAccessToken> {
  const { payload, protectedHeader } = await jwtVerify(token, keys, {
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
  const validUntil = Math.min(
    (payload.exp! + CLOCK_TOLERANCE_SECONDS) * 1_000,
    (payload.iat! + MAX_TOKEN_AGE_SECONDS) * 1_000,
  );
  return { caller: { subject: payload.sub, roles }, kid: protectedHeader.kid, validUntil };
}

const MAX_TOKEN_AGE_SECONDS = 60 * 60;

/**
 * Access tokens verified before, until they expire: an ES256 check costs a process more CPU than
 * most of the calls it guards, and the same token comes with every request of a session and is
 * relayed with every call between services (ADR 0031). Only successful verifications are kept;
 * an entry answers only while its token would still verify (its `exp` and maximum age), and
 * `keepOnly` forgets the tokens of a key that left the key set. Bounded: past its size it forgets
 * the oldest.
 */
export class VerifiedTokens {
  private readonly verified = new Map<string, VerifiedAccessToken>();

  constructor(private readonly size = 10_000) {}

  get(token: string, now = Date.now()): Caller | undefined {
    const entry = this.verified.get(token);
    if (!entry) return undefined;
    if (now >= entry.validUntil) {
      this.verified.delete(token);
      return undefined;
    }
    return entry.caller;
  }

  remember(token: string, verified: VerifiedAccessToken): void {
    if (this.verified.size >= this.size) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, verified);
  }

  /** Forgets every token signed by a key not among `kids` (the key set just fetched). */
  keepOnly(kids: ReadonlySet<string>): void {
    for (const [token, entry] of this.verified) if (!entry.kid || !kids.has(entry.kid)) this.verified.delete(token);
  }
}
