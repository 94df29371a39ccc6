import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SignJWT } from 'jose';
import { ACCESS_TOKEN_TYPE, accessTokenClaims } from '@contracts/identity';
import { ContractError, unauthenticated } from '@contracts/kernel';
import { normalizeEmail } from '../../domain/credentials';
import { DEFAULT_LOGIN_THROTTLE, loginThrottleKeys } from '../../domain/login-throttle-policy';
import { CustomerRepository } from '../../persistence/customer.repository';
import { LoginThrottleRepository } from '../../persistence/login-throttle.repository';
import { PasswordHasher } from '../password-hasher';
import { SIGNING_ALGORITHM, SigningKeys } from '../signing-keys/signing-keys';
import { LoginCommand, type AccessToken } from './login.command';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

/**
 * Unknown email and wrong password get the same answer after the same work (an argon2 verify
 * against a decoy hash). Attempts are throttled per account and address, and per address, before
 * any password is checked; a throttled caller gets 429 with Retry-After whether the email exists
 * or not, so the throttle tells nothing about accounts either.
 */
@CommandHandler(LoginCommand)
export class LoginHandler implements ICommandHandler<LoginCommand, AccessToken> {
  private readonly claims = accessTokenClaims(process.env);

  constructor(
    private readonly customers: CustomerRepository,
    private readonly hasher: PasswordHasher,
    private readonly keys: SigningKeys,
    private readonly throttle: LoginThrottleRepository,
  ) {}

  async execute(command: LoginCommand): Promise<AccessToken> {
    const email = normalizeEmail(command.email);
    const throttleKeys = loginThrottleKeys(email, command.clientAddress);
    const throttled = await this.throttle.countAttempt(throttleKeys, DEFAULT_LOGIN_THROTTLE);
    if (throttled) {
      throw new ContractError('resource-exhausted', 'too-many-login-attempts', 'too many failed sign-ins: try again later', {
        retryAfterSeconds: throttled.retryAfterSeconds,
      });
    }
    const account = await this.customers.byEmail(email);
    if (!(await this.hasher.verify(account?.passwordHash, command.password)) || !account) {
      throw unauthenticated('invalid-credentials', 'email or password is wrong');
    }
    await this.throttle.succeeded(throttleKeys);
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
    return { accessToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SECONDS };
  }
}
