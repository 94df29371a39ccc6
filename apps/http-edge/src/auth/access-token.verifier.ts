import { Inject, Injectable } from '@nestjs/common';
import { createLocalJWKSet, errors, type JSONWebKeySet } from 'jose';
import { ACCESS_TOKEN_TYPE, IDENTITY, type AccessTokenClaims, type IdentityApi } from '@contracts/identity';
import { unauthenticated, type Caller } from '@contracts/kernel';
import { SYSTEM_CLOCK, type Clock } from '@infra/resilience';
import { verifyAccessTokenFully, VerifiedTokens } from '@infra/security';
import { VerifierClaimsSettings } from '../http-settings';
import { RequestContexts } from '../request-context';

const JWKS_MAX_AGE_MS = 5 * 60_000;
/**
 * An unknown key id refreshes the keys at most this often: random kids must not hammer identity.
 * Counted from the last refresh an unknown kid caused, not from the last fetch, so an edge that
 * fetched the keys a moment before identity rotated still learns the new key at its first token.
 */
const UNKNOWN_KID_REFRESH_MS = 30_000;
/** A verified token served past the keys' age fetches them again at most this often while fetches fail. */
const FETCH_RETRY_MS = 10_000;

/**
 * Verifies access tokens against the keys identity publishes (its JWKS, fetched through the
 * identity contract and cached; an unknown key id refreshes it once, so rotation needs no restart).
 * Per RFC 8725: only ES256 is accepted (`none` and HMAC tokens cannot pass, whatever their header
 * says); `typ` must be `at+jwt`; `iss` and `aud` must be the configured ones (FICUS_JWT_ISSUER,
 * FICUS_JWT_AUDIENCE); `exp`, `nbf` and `iat` are required and checked with 30 s of clock skew.
 */
@Injectable()
export class AccessTokenVerifier {
  private jwks?: { keys: ReturnType<typeof createLocalJWKSet>; fetchedAt: number };
  private fetching?: Promise<ReturnType<typeof createLocalJWKSet>>;
  private lastUnknownKidRefresh = 0;
  private lastFailedFetch = 0;
  /** The time the key set's age is read by: the system's, unless a test drives it (`useClock`). */
  private clock: Clock = SYSTEM_CLOCK;
  /** Tokens verified before, until they expire (the rate limiter and the guard ask for the same one). */
  private readonly verified = new VerifiedTokens();

  constructor(
    @Inject(IDENTITY) private readonly identity: IdentityApi,
    private readonly contexts: RequestContexts,
    @Inject(VerifierClaimsSettings.token) private readonly claims: AccessTokenClaims,
  ) {}

  /** For tests: the key set's age, the refetch pauses and the unknown-kid bound read this clock. */
  useClock(clock: Clock): void {
    this.clock = clock;
  }

  async verify(authorization: string | undefined): Promise<Caller> {
    const token = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization ?? '')?.[1];
    if (!token) {
      throw unauthenticated('missing-token', 'this route needs a Bearer access token');
    }
    const known = this.verified.get(token);
    if (known) {
      // The key set it was checked against is past its age: fetched again behind this answer, so
      // a key retired since (a leak) stops vouching for its tokens within that age and one fetch,
      // however long they live, and no request waits for identity (which may be away).
      // While identity fails, not at every request: once FETCH_RETRY_MS after the last failure.
      const now = this.clock.now();
      if (this.jwks && now - this.jwks.fetchedAt >= JWKS_MAX_AGE_MS && now - this.lastFailedFetch >= FETCH_RETRY_MS) {
        void this.keys(false).catch(() => undefined);
      }
      return known;
    }
    const keys = await this.keys(false); // identity unreachable with no keys yet: 503, not 401
    try {
      return await this.verifyWith(keys, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey &&
        this.clock.now() - this.lastUnknownKidRefresh > UNKNOWN_KID_REFRESH_MS
      ) {
        this.lastUnknownKidRefresh = this.clock.now();
        const fresh = await this.keys(true).catch(() => keys);
        return this.verifyWith(fresh, token).catch(() => {
          throw unauthenticated('invalid-token', 'the access token is not valid');
        });
      }
      throw unauthenticated('invalid-token', 'the access token is not valid');
    }
  }

  /**
   * Fetches the keys now, say after this edge asked identity to rotate: not the answer of a fetch
   * already under way, which may have left before the rotation. The old ones serve if it fails.
   */
  async refreshKeys(): Promise<void> {
    await this.fetching?.catch(() => undefined);
    await this.keys(true).catch(() => undefined);
  }

  private async verifyWith(keys: ReturnType<typeof createLocalJWKSet>, token: string): Promise<Caller> {
    const verified = await verifyAccessTokenFully(token, keys, { type: ACCESS_TOKEN_TYPE, ...this.claims });
    this.verified.remember(token, verified);
    return verified.caller;
  }

  /**
   * The cached keys, refreshed when stale (one fetch at a time). When identity cannot answer, the
   * keys we had keep serving; with none at all the caller gets identity's error (a 503).
   */
  private async keys(refresh: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (!refresh && this.jwks && this.clock.now() - this.jwks.fetchedAt < JWKS_MAX_AGE_MS) {
      return this.jwks.keys;
    }
    this.fetching ??= this.identity
      .getJwks(this.contexts.system(), {})
      .then((jwks) => {
        this.jwks = { keys: createLocalJWKSet(jwks as JSONWebKeySet), fetchedAt: this.clock.now() };
        // A key identity no longer publishes vouches for no token from now on.
        this.verified.keepOnly(new Set(jwks.keys.map((key) => key.kid)));
        return this.jwks.keys;
      })
      .finally(() => {
        this.fetching = undefined;
      });
    try {
      return await this.fetching;
    } catch (error) {
      this.lastFailedFetch = this.clock.now();
      if (this.jwks) return this.jwks.keys;
      throw error;
    }
  }
}
