import { z } from 'zod';
import { event } from '../kernel/contract';
import { EmailSchema, IdSchema } from '../kernel/ids';

export const CustomerRegistered = event(
  'identity.customer-registered',
  1,
  z.object({ customerId: IdSchema, email: EmailSchema }),
  (p) => p.customerId,
  'customer',
);

/**
 * A new account (or one registered again before it was confirmed) must prove its mailbox: the
 * single-use token (256 random bits, base64url) that notifications mails to it. Only its hash is
 * stored by identity; it expires at `expiresAt`.
 */
export const EmailConfirmationRequested = event(
  'identity.email-confirmation-requested',
  1,
  z.object({
    customerId: IdSchema,
    email: EmailSchema,
    token: z.string().min(32).max(128),
    expiresAt: z.iso.datetime({ offset: true }),
  }),
  (p) => p.customerId,
  'customer',
);

/**
 * Someone registered with the address of a confirmed account. The registrant gets the answer a
 * new address gets (registration does not tell which addresses have accounts); the owner is told.
 */
export const RegistrationAttempted = event(
  'identity.registration-attempted',
  1,
  z.object({ customerId: IdSchema, email: EmailSchema }),
  (p) => p.customerId,
  'customer',
);
