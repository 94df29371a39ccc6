import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims } from '@contracts/identity';
import { UnitOfWork } from '@infra/persistence';
import type { Role } from '../../domain/credentials';
import { newRefreshToken } from '../../domain/refresh-token';
import { RefreshTokenRepository, type RefreshTokenFamily } from '../../persistence/refresh-token.repository';
import { SIGNING_ALGORITHM, SigningKeys } from '../signing-keys/signing-keys';
import { IssuerClaimsSettings, TOKEN_OPTIONS, type TokenOptions } from './token.options';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

export interface IssuedTokens {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly refreshExpiresIn: number;
}

/** Mints an access token and the refresh token that gets the next one, for login and refresh alike. */
@Injectable()
export class TokenIssuer {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly keys: SigningKeys,
    private readonly refreshTokens: RefreshTokenRepository,
    @Inject(TOKEN_OPTIONS) private readonly options: TokenOptions,
    @Inject(IssuerClaimsSettings.token) private readonly claims: AccessTokenClaims,
  ) {}

  /** Tokens for an account; `family` continues a rotation, none starts a new sign-in. */
  async issue(
    account: { customerId: string; roles: readonly Role[] },
    family?: RefreshTokenFamily,
  ): Promise<IssuedTokens> {
    const key = await this.keys.signingKey();
    const accessToken = await new SignJWT({ roles: account.roles })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setSubject(account.customerId)
      .setIssuer(this.claims.issuer)
      .setAudience(this.claims.audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
      .sign(key.privateKey);
    const refresh = newRefreshToken();
    const familyOfToken = family ?? { familyId: randomUUID(), customerId: account.customerId };
    await this.uow.transaction(async () => {
      if (!family) await this.refreshTokens.startFamily(familyOfToken);
      await this.refreshTokens.add(refresh.hash, familyOfToken, this.options.refreshTokenTtlHours);
    });
    return {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
      refreshToken: refresh.token,
      refreshExpiresIn: this.options.refreshTokenTtlHours * 3600,
    };
  }
}
