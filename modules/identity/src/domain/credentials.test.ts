import { normalizeEmail, rolesOfNewAccount } from './credentials';

describe('credentials', () => {
  it('normalizes an email: trimmed and lower case', () => {
    expect(normalizeEmail('  Ana@Example.COM ')).toBe('ana@example.com');
  });

  it('makes every new account a customer and nothing more', () => {
    expect(rolesOfNewAccount()).toEqual(['customer']);
  });
});
