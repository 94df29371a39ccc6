import { Module, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { IdentityContract } from '@contracts/identity';
import { ContextRuntime, FicusModule } from '@infra/runtime';
import { IdentityContractAdapter } from './application/identity.contract-adapter';
import { LoginHandler } from './application/login/login.handler';
import { PasswordHasher } from './application/password-hasher';
import { RegisterCustomerHandler } from './application/register/register-customer.handler';
import { SigningKeys } from './application/signing-keys/signing-keys';
import { CustomerRepository } from './persistence/customer.repository';
import { LoginThrottleRepository } from './persistence/login-throttle.repository';
import { CreateIdentity1764000000600 } from './persistence/migrations/1764000000600-create-identity';
import { CreateLoginThrottle1764000000601 } from './persistence/migrations/1764000000601-create-login-throttle';

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({ context: 'identity', entities: [], migrations: [CreateIdentity1764000000600, CreateLoginThrottle1764000000601] }),
  ],
  providers: [CustomerRepository, LoginThrottleRepository, PasswordHasher, SigningKeys, RegisterCustomerHandler, LoginHandler, IdentityContractAdapter],
})
export class IdentityModule implements OnModuleInit {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly adapter: IdentityContractAdapter,
  ) {}

  onModuleInit(): void {
    this.runtime.serve(IdentityContract, this.adapter);
  }
}
