import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SignJWT } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@contracts/identity';
import { unauthenticated } from '@contracts/kernel';
import { normalizeEmail } from '../../domain/credentials';
import { CustomerRepository } from '../../persistence/customer.repository';
import { PasswordHasher } from '../password-hasher';
import { SIGNING_ALGORITHM, SigningKeys } from '../signing-keys/signing-keys';
import { LoginCommand, type AccessToken } from './login.command';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

/** Unknown email and wrong password get the same answer after the same work. */
@CommandHandler(LoginCommand)
export class LoginHandler implements ICommandHandler<LoginCommand, AccessToken> {
  constructor(
    private readonly customers: CustomerRepository,
    private readonly hasher: PasswordHasher,
    private readonly keys: SigningKeys,
  ) {}

  async execute(command: LoginCommand): Promise<AccessToken> {
    const account = await this.customers.byEmail(normalizeEmail(command.email));
    if (!(await this.hasher.verify(account?.passwordHash, command.password)) || !account) {
      throw unauthenticated('invalid-credentials', 'email or password is wrong');
    }
    const key = await this.keys.signingKey();
    const accessToken = await new SignJWT({ roles: account.roles })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'at+jwt' })
      .setSubject(account.customerId)
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
      .sign(key.privateKey);
    return { accessToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SECONDS };
  }
}
