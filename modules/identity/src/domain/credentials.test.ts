import { normalizeEmail, parseAdminEmails, rolesFor } from './credentials';

describe('credentials', () => {
  it('normalizes an email: trimmed and lower case', () => {
    expect(normalizeEmail('  Ana@Example.COM ')).toBe('ana@example.com');
  });

  it('parses the admin list, normalized, without blanks', () => {
    expect(parseAdminEmails(' Root@Example.com, ,ops@example.com,')).toEqual(
      new Set(['root@example.com', 'ops@example.com']),
    );
    expect(parseAdminEmails(undefined)).toEqual(new Set());
    expect(parseAdminEmails('')).toEqual(new Set());
  });

  it('makes listed emails admins, whatever their case, and everyone a customer', () => {
    const admins = parseAdminEmails('root@example.com');
    expect(rolesFor(' ROOT@example.com', admins)).toEqual(['customer', 'admin']);
    expect(rolesFor('ana@example.com', admins)).toEqual(['customer']);
  });
});
