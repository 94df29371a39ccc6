import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CustomerRegistered, EmailConfirmationRequested, RegistrationAttempted } from '@contracts/identity';
import type { EventOrigin } from '@contracts/kernel';
import { Outbox } from '@infra/messaging';
import { UnitOfWork } from '@infra/persistence';
import { DEFAULT_ACCOUNT_EMAILS, type AccountEmailKind } from '../../domain/account-email-policy';
import { normalizeEmail, rolesOfNewAccount } from '../../domain/credentials';
import { AccountEmailRepository } from '../../persistence/account-email.repository';
import { CustomerRepository } from '../../persistence/customer.repository';
import { PasswordHasher } from '../password-hasher';
import { RegisterCustomerCommand } from './register-customer.command';

/** How long a confirmation link works. */
export const CONFIRMATION_TTL_HOURS = 24;

/** A confirmation token as identity stores it: its SHA-256, never the token. */
export function confirmationTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Registers an account that must prove its mailbox before it signs in: a single-use token goes
 * to notifications, which mails the link (`identity.email-confirmation-requested`). The answer
 * does not say whether the address had an account (the edge shows none of it): an address
 * registered before and not yet confirmed gets a new link (which sets this registration's password
 * when it is followed, not the one of whoever registered the address first), a confirmed one's
 * owner is told that someone tried (`identity.registration-attempted`), and the same argon2 work
 * is done either way.
 * Each kind of email goes to an account at most once a minute and five times in a fixed 24-hour
 * window (AccountEmailPolicy): a registration past that mails nothing and is answered the same.
 */
@CommandHandler(RegisterCustomerCommand)
export class RegisterCustomerHandler implements ICommandHandler<RegisterCustomerCommand, { customerId: string }> {
  private readonly logger = new Logger(RegisterCustomerHandler.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly customers: CustomerRepository,
    private readonly accountEmails: AccountEmailRepository,
    private readonly hasher: PasswordHasher,
    private readonly outbox: Outbox,
  ) {}

  async execute(command: RegisterCustomerCommand): Promise<{ customerId: string }> {
    const email = normalizeEmail(command.email);
    const passwordHash = await this.hasher.hash(command.password);
    const customerId = randomUUID();
    return this.uow.transaction(async () => {
      if (await this.customers.insert({ customerId, email, passwordHash, roles: rolesOfNewAccount() })) {
        await this.outbox.add(CustomerRegistered.create({ customerId, email }, command.origin));
        await this.mayMail(customerId, 'email-confirmation'); // a new account's first: always let through
        await this.requestConfirmation(customerId, email, passwordHash, command.origin);
        return { customerId };
      }
      const existing = (await this.customers.byEmail(email))!;
      if (existing.emailConfirmedAt) {
        if (await this.mayMail(existing.customerId, 'registration-attempted')) {
          await this.outbox.add(
            RegistrationAttempted.create({ customerId: existing.customerId, email }, command.origin),
          );
        }
      } else if (await this.mayMail(existing.customerId, 'email-confirmation')) {
        await this.requestConfirmation(existing.customerId, email, passwordHash, command.origin);
      }
      return { customerId: existing.customerId };
    });
  }

  /** Counts an email of `kind` to the account when the policy lets one go now; false (logged) when not. */
  private async mayMail(customerId: string, kind: AccountEmailKind): Promise<boolean> {
    if (await this.accountEmails.take(customerId, kind, DEFAULT_ACCOUNT_EMAILS)) return true;
    this.logger.log({ customer_id: customerId, kind }, 'account email withheld: the account had its share of them');
    return false;
  }

  /** A link that sets the password chosen with this registration when it is followed. */
  private async requestConfirmation(
    customerId: string,
    email: string,
    passwordHash: string,
    origin: EventOrigin,
  ): Promise<void> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = await this.customers.addConfirmation(
      customerId,
      confirmationTokenHash(token),
      CONFIRMATION_TTL_HOURS,
      passwordHash,
    );
    await this.outbox.add(
      EmailConfirmationRequested.create({ customerId, email, token, expiresAt: expiresAt.toISOString() }, origin),
    );
  }
}
