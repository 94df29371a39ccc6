import type { EmailMessage } from './order-email';

/** The link a new account follows to prove its mailbox: `<public URL>/identity/confirm?token=<token>`. */
export function confirmationEmail(to: string, publicUrl: string, token: string, expiresAt: string): EmailMessage {
  const link = `${publicUrl.replace(/\/+$/, '')}/identity/confirm?token=${encodeURIComponent(token)}`;
  return {
    to,
    subject: 'Confirm your email address',
    body:
      `Welcome! To finish creating your account, open this link before ${expiresAt} and enter the password ` +
      `you chose when registering:\n\n${link}\n\nIf you did not register, ignore this message: without ` +
      `that password the link confirms nothing.`,
  };
}

/** What the owner of an account reads when someone registers again with its address. */
export function registrationAttemptedEmail(to: string): EmailMessage {
  return {
    to,
    subject: 'Someone tried to register with your email address',
    body:
      'Someone (perhaps you) tried to create an account with this address, which already has one. ' +
      'If it was you, sign in with your password instead. If it was not, you need not do anything: your ' +
      'account is unchanged.',
  };
}
