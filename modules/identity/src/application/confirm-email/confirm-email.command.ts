import { Command } from '@nestjs/cqrs';

export class ConfirmEmailCommand extends Command<{ customerId: string }> {
  constructor(
    readonly token: string,
    /** The password chosen with the registration that mailed the token. */
    readonly password: string | undefined,
  ) {
    super();
  }
}
