import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { invalidArgument } from '@contracts/kernel';
import { UnitOfWork } from '@infra/persistence';
import { CustomerRepository } from '../../persistence/customer.repository';
import { confirmationTokenHash } from '../register/register-customer.handler';
import { ConfirmEmailCommand } from './confirm-email.command';

/**
 * The mailed token comes back: used up, and its account may sign in. Unknown, used and expired
 * tokens get one answer.
 */
@CommandHandler(ConfirmEmailCommand)
export class ConfirmEmailHandler implements ICommandHandler<ConfirmEmailCommand, { customerId: string }> {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly customers: CustomerRepository,
  ) {}

  execute(command: ConfirmEmailCommand): Promise<{ customerId: string }> {
    return this.uow.transaction(async () => {
      const customerId = await this.customers.confirm(confirmationTokenHash(command.token));
      if (!customerId) {
        throw invalidArgument(
          'invalid-confirmation-token',
          'this confirmation link is unknown, used or expired: ' +
            'follow the newest one mailed, or register again for a new one',
        );
      }
      return { customerId };
    });
  }
}
