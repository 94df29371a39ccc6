import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { CustomerRegistered } from '@contracts/identity';
import { conflict } from '@contracts/kernel';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import { normalizeEmail, rolesOfNewAccount } from '../../domain/credentials';
import { CustomerRepository } from '../../persistence/customer.repository';
import { PasswordHasher } from '../password-hasher';
import { RegisterCustomerCommand } from './register-customer.command';

@CommandHandler(RegisterCustomerCommand)
export class RegisterCustomerHandler implements ICommandHandler<RegisterCustomerCommand, { customerId: string }> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly customers: CustomerRepository,
    private readonly hasher: PasswordHasher,
    private readonly outbox: Outbox,
  ) {}

  async execute(command: RegisterCustomerCommand): Promise<{ customerId: string }> {
    const email = normalizeEmail(command.email);
    const passwordHash = await this.hasher.hash(command.password);
    const customerId = randomUUID();
    return this.uow.transaction(async () => {
      const inserted = await this.customers.insert({
        customerId,
        email,
        passwordHash,
        roles: rolesOfNewAccount(),
      });
      if (!inserted) {
        throw conflict('email-taken', 'an account with this email exists already');
      }
      await this.outbox.add(CustomerRegistered.create({ customerId, email }, command.origin));
      return { customerId };
    });
  }
}
