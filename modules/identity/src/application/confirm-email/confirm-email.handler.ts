import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { invalidArgument } from '@contracts/kernel';
import { UnitOfWork } from '@infra/persistence';
import { CustomerRepository } from '../../persistence/customer.repository';
import { PasswordHasher } from '../password-hasher';
import { confirmationTokenHash } from '../register/register-customer.handler';
import { ConfirmEmailCommand } from './confirm-email.command';

/** Passwords a link may be tried with. */
export const CONFIRMATION_PASSWORD_ATTEMPTS = 5;

const invalidToken = () =>
  invalidArgument(
    'invalid-confirmation-token',
    'this confirmation link is unknown, used or expired: follow the newest one mailed, or register again for a new one',
  );

/**
 * The mailed token comes back with the password chosen when registering: the token is used up,
 * and its account may sign in with that password. Both are needed: the token proves the mailbox,
 * the password that whoever follows the link is who registered. A link someone else's
 * registration sent to an address (its owner did not ask for it), or one a mail scanner follows,
 * confirms nothing. Unknown, used and expired tokens get one answer. A link mailed before links
 * carried their password (migration 608) leaves the account's password as it is, so it is that
 * password a follower must give.
 * Each attempt is taken before its check, and a link takes five: a right password among the last
 * ones sent at once still confirms, whatever the wrong ones beside it.
 */
@CommandHandler(ConfirmEmailCommand)
export class ConfirmEmailHandler implements ICommandHandler<ConfirmEmailCommand, { customerId: string }> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly customers: CustomerRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  async execute(command: ConfirmEmailCommand): Promise<{ customerId: string }> {
    const tokenHash = confirmationTokenHash(command.token);
    if (command.password === undefined) {
      // Not an attempt: nothing was tried with the link.
      throw invalidArgument(
        'confirmation-password-required',
        'confirming an email address needs the password chosen when registering: send {"token", "password"}',
      );
    }
    const link = await this.customers.takeConfirmationAttempt(tokenHash, CONFIRMATION_PASSWORD_ATTEMPTS);
    if (!link) throw invalidToken();
    // The argon2 work is done outside the transaction: no connection or row lock waits for it.
    if (!(await this.hasher.verify(link.passwordHash, command.password))) {
      throw invalidArgument(
        'wrong-confirmation-password',
        'this is not the password chosen when registering with this link; ' +
          `a link takes ${CONFIRMATION_PASSWORD_ATTEMPTS} attempts (registering again mails a new one)`,
      );
    }
    return this.uow.transaction(async () => {
      const customerId = await this.customers.confirm(tokenHash);
      if (!customerId) throw invalidToken();
      return { customerId };
    });
  }
}
