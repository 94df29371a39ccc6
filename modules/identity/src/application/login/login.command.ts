import { Command } from '@nestjs/cqrs';

export interface AccessToken {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
}

export class LoginCommand extends Command<AccessToken> {
  constructor(
    readonly email: string,
    readonly password: string,
    /** The caller's address as the edge saw it, for throttling; undefined when unknown. */
    readonly clientAddress?: string,
  ) {
    super();
  }
}
