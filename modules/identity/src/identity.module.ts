import { Inject, Logger, Module, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { IdentityContract } from '@contracts/identity';
import { FicusModule } from '@infra/runtime';
import { KeyEncryptionError, KeyEncryptionSettings } from '@infra/security';
import { ChangeAdminRoleHandler } from './application/admins/change-admin-role.handler';
import { ConfirmEmailHandler } from './application/confirm-email/confirm-email.handler';
import { IdentityHousekeeping } from './application/housekeeping/identity-housekeeping';
import { IdentityContractAdapter } from './application/identity.contract-adapter';
import { LoginHandler } from './application/login/login.handler';
import { LogoutHandler } from './application/logout/logout.handler';
import { PasswordHasher } from './application/password-hasher';
import { RefreshTokensHandler } from './application/refresh/refresh-tokens.handler';
import { RegisterCustomerHandler } from './application/register/register-customer.handler';
import { SigningKeys } from './application/signing-keys/signing-keys';
import { TokenIssuer } from './application/tokens/token-issuer';
import { IssuerClaimsSettings, RetiredAdminEmailsSettings, TokenSettings } from './application/tokens/token.options';
import { AccountEmailRepository } from './persistence/account-email.repository';
import { CustomerRepository } from './persistence/customer.repository';
import { LoginThrottleRepository } from './persistence/login-throttle.repository';
import { RefreshTokenRepository } from './persistence/refresh-token.repository';
import { CreateIdentity1764000000600 } from './persistence/migrations/1764000000600-create-identity';
import { CreateLoginThrottle1764000000601 } from './persistence/migrations/1764000000601-create-login-throttle';
import { CreateRefreshTokens1764000000602 } from './persistence/migrations/1764000000602-create-refresh-tokens';
import { SigningKeyActivation1764000000603 } from './persistence/migrations/1764000000603-signing-key-activation';
import { CreateRoleChanges1764000000604 } from './persistence/migrations/1764000000604-create-role-changes';
import { SealedSigningKeys1764000000605 } from './persistence/migrations/1764000000605-sealed-signing-keys';
import { EmailConfirmation1764000000606 } from './persistence/migrations/1764000000606-email-confirmation';
import { AccountEmails1764000000607 } from './persistence/migrations/1764000000607-account-emails';
import { ConfirmationPassword1764000000608 } from './persistence/migrations/1764000000608-confirmation-password';
import { ConfirmationAttempts1764000000609 } from './persistence/migrations/1764000000609-confirmation-attempts';

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({
      context: 'identity',
      entities: [],
      migrations: [
        CreateIdentity1764000000600,
        CreateLoginThrottle1764000000601,
        CreateRefreshTokens1764000000602,
        SigningKeyActivation1764000000603,
        CreateRoleChanges1764000000604,
        SealedSigningKeys1764000000605,
        EmailConfirmation1764000000606,
        AccountEmails1764000000607,
        ConfirmationPassword1764000000608,
        ConfirmationAttempts1764000000609,
      ],
      serves: [IdentityContract, IdentityContractAdapter],
      // Key encryption refuses to start with NODE_ENV=production and no FICUS_KEY_ENCRYPTION_KEYS.
      settings: [TokenSettings, IssuerClaimsSettings, KeyEncryptionSettings, RetiredAdminEmailsSettings],
    }),
  ],
  providers: [
    AccountEmailRepository,
    CustomerRepository,
    LoginThrottleRepository,
    RefreshTokenRepository,
    PasswordHasher,
    SigningKeys,
    TokenIssuer,
    RegisterCustomerHandler,
    LoginHandler,
    RefreshTokensHandler,
    LogoutHandler,
    ChangeAdminRoleHandler,
    ConfirmEmailHandler,
    IdentityContractAdapter,
    IdentityHousekeeping,
  ],
})
export class IdentityModule implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly keys: SigningKeys,
    @Inject(RetiredAdminEmailsSettings.token) private readonly retired: { adminEmailsSet: boolean },
  ) {}

  onModuleInit(): void {
    if (this.retired.adminEmailsSet) {
      new Logger('identity').warn(
        'FICUS_ADMIN_EMAILS is ignored: registering never makes an admin (anyone could register first with a ' +
          'listed address). Grant the role with `npx ficus admins grant <email>`',
      );
    }
  }

  /**
   * Loads the signing key at start-up, replacing it when older than FICUS_SIGNING_KEY_ROTATE_DAYS.
   * A failure only delays that to the first sign-in: identity must not refuse to start for it.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.keys.signingKey().catch((error: unknown) => {
      // Keys this process cannot open are a configuration to fix, not an outage to wait out.
      if (error instanceof KeyEncryptionError)
        throw new Error(`identity cannot open its signing keys: ${error.message}`);
      new Logger('identity').warn(
        `signing key not loaded at start-up: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  }
}
