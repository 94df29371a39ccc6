import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { IdentityApi } from '@contracts/identity';
import type { CallContext } from '@contracts/kernel';
import { LoginCommand } from './login/login.command';
import { RegisterCustomerCommand } from './register/register-customer.command';
import { SigningKeys } from './signing-keys/signing-keys';

@Injectable()
export class IdentityContractAdapter implements IdentityApi {
  constructor(
    private readonly commands: CommandBus,
    private readonly keys: SigningKeys,
  ) {}

  register(ctx: CallContext, request: { email: string; password: string }) {
    return this.commands.execute(
      new RegisterCustomerCommand(request.email, request.password, {
        correlationId: ctx.correlationId,
        causationId: ctx.causationId,
        traceparent: ctx.traceparent,
      }),
    );
  }

  login(_ctx: CallContext, request: { email: string; password: string; clientAddress?: string }) {
    return this.commands.execute(new LoginCommand(request.email, request.password, request.clientAddress || undefined));
  }

  async getJwks() {
    return { keys: (await this.keys.publicKeys()) as Array<{ kty: string; kid: string; alg: string }> };
  }
}
