import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { unauthenticated } from '@contracts/kernel';
import { UnitOfWork } from '@infra/persistence';
import { hashRefreshToken } from '../../domain/refresh-token';
import { CustomerRepository } from '../../persistence/customer.repository';
import { RefreshTokenRepository } from '../../persistence/refresh-token.repository';
import { TokenIssuer, type IssuedTokens } from '../tokens/token-issuer';
import { RefreshTokensCommand } from './refresh-tokens.command';

export const invalidRefreshToken = () => unauthenticated('invalid-refresh-token', 'the refresh token is not valid');

/**
 * Rotation (OAuth 2.1 BCP, RFC 6819 §5.2.2.3): the token presented is used up and the answer holds
 * the next one of its family. A token presented a second time means two parties hold it, and
 * identity cannot tell the thief from the customer: the whole family is revoked, the newest token
 * included, and both must sign in again. Every refusal is the same 401.
 */
@CommandHandler(RefreshTokensCommand)
export class RefreshTokensHandler implements ICommandHandler<RefreshTokensCommand, IssuedTokens> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly customers: CustomerRepository,
    private readonly issuer: TokenIssuer,
  ) {}

  async execute(command: RefreshTokensCommand): Promise<IssuedTokens> {
    const tokenHash = hashRefreshToken(command.refreshToken);
    const result = await this.uow.transaction(async () => {
      const use = await this.refreshTokens.use(tokenHash);
      if (use.outcome !== 'rotated') return use;
      const account = await this.customers.byId(use.customerId);
      if (!account) return { outcome: 'invalid' as const };
      return { outcome: 'issued' as const, tokens: await this.issuer.issue(account, use) };
    });
    if (result.outcome === 'issued') return result.tokens;
    // Revoked after the lookup's transaction, so the revocation commits although the call fails.
    if (result.outcome === 'reused') await this.refreshTokens.revokeFamily(result.familyId);
    throw invalidRefreshToken();
  }
}
