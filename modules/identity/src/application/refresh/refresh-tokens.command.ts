import { Command } from '@nestjs/cqrs';
import type { IssuedTokens } from '../tokens/token-issuer';

export class RefreshTokensCommand extends Command<IssuedTokens> {
  constructor(readonly refreshToken: string) {
    super();
  }
}
