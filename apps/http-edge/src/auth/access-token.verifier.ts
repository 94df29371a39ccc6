import { Inject, Injectable } from '@nestjs/common';
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, IDENTITY, type IdentityApi } from '@contracts/identity';
import { unauthenticated, type Caller } from '@contracts/kernel';
import { RequestContexts } from '../request-context';

const ALLOWED_ALGORITHMS = ['ES256'];
const CLOCK_TOLERANCE_SECONDS = 5;
const JWKS_MAX_AGE_MS = 5 * 60_000;

/**
 * Verifies access tokens against the keys identity publishes (its JWKS, fetched through the
 * identity contract and cached; an unknown key id refreshes it once, so rotation needs no restart).
 * Only ES256 is accepted: `none` and HMAC tokens cannot pass, whatever their header says.
 */
@Injectable()
export class AccessTokenVerifier {
  private jwks?: { keys: ReturnType<typeof createLocalJWKSet>; fetchedAt: number };

  constructor(
    @Inject(IDENTITY) private readonly identity: IdentityApi,
    private readonly contexts: RequestContexts,
  ) {}

  async verify(authorization: string | undefined): Promise<Caller> {
    const token = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(authorization ?? '')?.[1];
    if (!token) {
      throw unauthenticated('missing-token', 'this route needs a Bearer access token');
    }
    try {
      return await this.verifyWith(await this.keys(false), token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) {
        return this.verifyWith(await this.keys(true), token).catch(() => {
          throw unauthenticated('invalid-token', 'the access token is not valid');
        });
      }
      throw unauthenticated('invalid-token', 'the access token is not valid');
    }
  }

  private async verifyWith(keys: ReturnType<typeof createLocalJWKSet>, token: string): Promise<Caller> {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ALLOWED_ALGORITHMS,
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    return { subject: payload.sub!, roles };
  }

  private async keys(refresh: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (!refresh && this.jwks && Date.now() - this.jwks.fetchedAt < JWKS_MAX_AGE_MS) {
      return this.jwks.keys;
    }
    const jwks = await this.identity.getJwks(this.contexts.system(), {});
    this.jwks = { keys: createLocalJWKSet(jwks as JSONWebKeySet), fetchedAt: Date.now() };
    return this.jwks.keys;
  }
}
