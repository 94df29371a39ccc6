/** Roles a customer account can hold. */
export type Role = 'customer' | 'admin';

/** Emails compare case-insensitively and without surrounding blanks. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Accounts whose email an operator listed in FICUS_ADMIN_EMAILS are admins; everyone is a customer. */
export function rolesFor(email: string, adminEmails: ReadonlySet<string>): Role[] {
  return adminEmails.has(normalizeEmail(email)) ? ['customer', 'admin'] : ['customer'];
}

export function parseAdminEmails(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((email) => normalizeEmail(email))
      .filter((email) => email.length > 0),
  );
}
