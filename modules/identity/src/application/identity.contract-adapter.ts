import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { IdentityApi } from '@contracts/identity';
import { permissionDenied, type CallContext } from '@contracts/kernel';
import { ChangeAdminRoleCommand } from './admins/change-admin-role.command';
import { ConfirmEmailCommand } from './confirm-email/confirm-email.command';
import { LoginCommand } from './login/login.command';
import { LogoutCommand } from './logout/logout.command';
import { RefreshTokensCommand } from './refresh/refresh-tokens.command';
import { RegisterCustomerCommand } from './register/register-customer.command';
import { SigningKeys } from './signing-keys/signing-keys';
import { CustomerRepository } from '../persistence/customer.repository';

@Injectable()
export class IdentityContractAdapter implements IdentityApi {
  constructor(
    private readonly commands: CommandBus,
    private readonly keys: SigningKeys,
    private readonly customers: CustomerRepository,
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

  confirmEmail(_ctx: CallContext, request: { token: string; password?: string }) {
    return this.commands.execute(new ConfirmEmailCommand(request.token, request.password));
  }

  login(_ctx: CallContext, request: { email: string; password: string; clientAddress?: string }) {
    return this.commands.execute(new LoginCommand(request.email, request.password, request.clientAddress || undefined));
  }

  refresh(_ctx: CallContext, request: { refreshToken: string }) {
    return this.commands.execute(new RefreshTokensCommand(request.refreshToken));
  }

  logout(_ctx: CallContext, request: { refreshToken: string }) {
    return this.commands.execute(new LogoutCommand(request.refreshToken));
  }

  async getJwks() {
    return { keys: (await this.keys.publicKeys()) as Array<{ kty: string; kid: string; alg: string }> };
  }

  /** The edge lets only admins here; identity checks again, so no other caller can rotate. */
  rotateSigningKey(ctx: CallContext, request: { retirePrevious?: boolean }) {
    if (!ctx.caller?.roles.includes('admin')) {
      throw permissionDenied('forbidden', 'only an admin may rotate the signing key');
    }
    return this.keys.rotate({ retirePrevious: request.retirePrevious === true });
  }

  grantAdmin(ctx: CallContext, request: { email: string }) {
    return this.commands.execute(
      new ChangeAdminRoleCommand(request.email, 'grant', adminOf(ctx, 'grant the admin role')),
    );
  }

  revokeAdmin(ctx: CallContext, request: { email: string }) {
    return this.commands.execute(
      new ChangeAdminRoleCommand(request.email, 'revoke', adminOf(ctx, 'revoke the admin role')),
    );
  }

  async listAdmins(ctx: CallContext) {
    adminOf(ctx, 'list the admins');
    return { items: await this.customers.withRole('admin') };
  }
}

/** The admin asking (their subject, for the audit); anyone else is refused, whatever the edge let through. */
function adminOf(ctx: CallContext, what: string): string {
  if (!ctx.caller?.roles.includes('admin')) {
    throw permissionDenied('forbidden', `only an admin may ${what}`);
  }
  return ctx.caller.subject;
}
