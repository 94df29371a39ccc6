import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { hashRefreshToken } from '../../domain/refresh-token';
import { RefreshTokenRepository } from '../../persistence/refresh-token.repository';
import { invalidRefreshToken } from '../refresh/refresh-tokens.handler';
import { LogoutCommand } from './logout.command';

/**
 * Signs out the sign-in a refresh token belongs to: its whole family is revoked, whatever state the
 * token presented is in (a used one still names the family). Access tokens already issued live out
 * their 15 minutes: they are not looked up per request.
 */
@CommandHandler(LogoutCommand)
export class LogoutHandler implements ICommandHandler<LogoutCommand, Record<string, never>> {
  constructor(private readonly refreshTokens: RefreshTokenRepository) {}

  async execute(command: LogoutCommand): Promise<Record<string, never>> {
    const family = await this.refreshTokens.familyOf(hashRefreshToken(command.refreshToken));
    if (!family) throw invalidRefreshToken();
    await this.refreshTokens.revokeFamily(family.familyId);
    return {};
  }
}
