import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { failedPrecondition, notFound } from '@contracts/kernel';
import { UnitOfWork } from '@infra/persistence';
import { normalizeEmail } from '../../domain/credentials';
import { CustomerRepository } from '../../persistence/customer.repository';
import { ChangeAdminRoleCommand, type AdminRoleChange } from './change-admin-role.command';

/**
 * The only way an account becomes an admin (never by what a registrant claims, issue 15): an
 * existing admin, or an operator through `ficus admins`, asks identity by its contract. Every
 * change is recorded in identity.role_changes with who asked. The last admin cannot be revoked,
 * so the shop is never left without one; the admins' rows are locked together, so two
 * revocations at once cannot both pass that check.
 */
@CommandHandler(ChangeAdminRoleCommand)
export class ChangeAdminRoleHandler implements ICommandHandler<ChangeAdminRoleCommand, AdminRoleChange> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly customers: CustomerRepository,
  ) {}

  execute(command: ChangeAdminRoleCommand): Promise<AdminRoleChange> {
    return this.uow.transaction(async () => {
      const admins = command.change === 'revoke' ? await this.customers.withRole('admin', { lock: true }) : [];
      const account = await this.customers.byEmail(normalizeEmail(command.email), { lock: true });
      if (!account) throw notFound('account-not-found', `no account has the email ${command.email}`);
      const isAdmin = account.roles.includes('admin');
      const unchanged = { customerId: account.customerId, email: account.email, roles: account.roles, changed: false };
      if (command.change === 'grant') {
        if (isAdmin) return unchanged;
        // Until its mailbox is proven, the account may be anyone's who typed the address.
        if (!account.emailConfirmedAt) {
          throw failedPrecondition(
            'email-not-confirmed',
            `${account.email} has not confirmed its email address: grant the role once it has`,
          );
        }
        const roles = [...account.roles, 'admin' as const];
        await this.customers.changeRoles(account.customerId, roles, {
          role: 'admin',
          change: 'granted',
          actor: command.actor,
        });
        return { ...unchanged, roles, changed: true };
      }
      if (!isAdmin) return unchanged;
      if (admins.length <= 1) {
        throw failedPrecondition('last-admin', `${account.email} is the last admin; grant another account first`);
      }
      const roles = account.roles.filter((role) => role !== 'admin');
      await this.customers.changeRoles(account.customerId, roles, {
        role: 'admin',
        change: 'revoked',
        actor: command.actor,
      });
      return { ...unchanged, roles, changed: true };
    });
  }
}
