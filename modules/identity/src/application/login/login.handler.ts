import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ContractError, permissionDenied, unauthenticated } from '@contracts/kernel';
import { addressCounterOf } from '@infra/security';
import { normalizeEmail } from '../../domain/credentials';
import { DEFAULT_LOGIN_THROTTLE, loginThrottleKeys } from '../../domain/login-throttle-policy';
import { CustomerRepository } from '../../persistence/customer.repository';
import { LoginThrottleRepository } from '../../persistence/login-throttle.repository';
import { PasswordHasher } from '../password-hasher';
import { TokenIssuer, type IssuedTokens } from '../tokens/token-issuer';
import { LoginCommand } from './login.command';

/**
 * Unknown email and wrong password get the same answer after the same work (an argon2 verify
 * against a decoy hash). Attempts are throttled per account and address, and per address, before
 * any password is checked; a throttled caller gets 429 with Retry-After whether the email exists
 * or not, so the throttle tells nothing about accounts either. An account whose mailbox is not
 * confirmed yet is refused (403 `email-not-confirmed`) once its password was right.
 */
@CommandHandler(LoginCommand)
export class LoginHandler implements ICommandHandler<LoginCommand, IssuedTokens> {
  constructor(
    private readonly customers: CustomerRepository,
    private readonly hasher: PasswordHasher,
    private readonly issuer: TokenIssuer,
    private readonly throttle: LoginThrottleRepository,
  ) {}

  async execute(command: LoginCommand): Promise<IssuedTokens> {
    const email = normalizeEmail(command.email);
    // An address counts as the edge's rate limits count it: an IPv6 one by its /56, so that a
    // client cannot step through its own network's addresses for fresh counts.
    const throttleKeys = loginThrottleKeys(email, addressCounterOf(command.clientAddress));
    const throttled = await this.throttle.countAttempt(throttleKeys, DEFAULT_LOGIN_THROTTLE);
    if (throttled) {
      throw new ContractError(
        'resource-exhausted',
        'too-many-login-attempts',
        'too many failed sign-ins: try again later',
        {
          retryAfterSeconds: throttled.retryAfterSeconds,
        },
      );
    }
    const account = await this.customers.byEmail(email);
    if (!(await this.hasher.verify(account?.passwordHash, command.password)) || !account) {
      throw unauthenticated('invalid-credentials', 'email or password is wrong');
    }
    // After the password: only whoever knows it learns that the address is not confirmed yet.
    if (!account.emailConfirmedAt) {
      throw permissionDenied(
        'email-not-confirmed',
        'confirm your email address first: follow the newest link we mailed you ' +
          '(registering again mails a new one, at most one a minute)',
      );
    }
    await this.throttle.succeeded(throttleKeys);
    return this.issuer.issue(account);
  }
}
