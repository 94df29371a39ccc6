/** Roles a customer account can hold. */
export type Role = 'customer' | 'admin';

/** Emails compare case-insensitively and without surrounding blanks. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The roles of a new account: a customer, whatever the registrant claims. An account becomes an
 * admin only when an admin (or an operator, `ficus admins grant`) says so (issue 15).
 */
export function rolesOfNewAccount(): Role[] {
  return ['customer'];
}
