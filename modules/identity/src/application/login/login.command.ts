import { Command } from '@nestjs/cqrs';
import type { IssuedTokens } from '../tokens/token-issuer';

export class LoginCommand extends Command<IssuedTokens> {
  constructor(
    readonly email: string,
    readonly password: string,
    /** The caller's address as the edge saw it, for throttling; undefined when unknown. */
    readonly clientAddress?: string,
  ) {
    super();
  }
}
