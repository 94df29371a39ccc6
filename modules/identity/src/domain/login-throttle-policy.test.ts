import { DEFAULT_LOGIN_THROTTLE, loginThrottleKeys } from './login-throttle-policy';

describe('login throttle policy', () => {
  it('throttles after 5 attempts per account and address, 100 per address, in 15 minutes', () => {
    expect(DEFAULT_LOGIN_THROTTLE).toEqual({ perAccountAndAddress: 5, perAddress: 100, windowSeconds: 900 });
  });

  it('keys an account by its normalized email, so case and blanks do not buy more attempts', () => {
    expect(loginThrottleKeys(' Ana@Example.com ', '10.0.0.1')).toEqual(
      loginThrottleKeys('ana@example.com', '10.0.0.1'),
    );
  });

  it('keeps accounts and addresses apart, and stores neither in the clear', () => {
    const a = loginThrottleKeys('ana@example.com', '10.0.0.1');
    const b = loginThrottleKeys('bob@example.com', '10.0.0.1');
    const c = loginThrottleKeys('ana@example.com', '10.0.0.2');
    expect(a.accountAndAddress).not.toBe(b.accountAndAddress);
    expect(a.accountAndAddress).not.toBe(c.accountAndAddress);
    expect(a.address).toBe(b.address);
    expect(a.address).not.toBe(c.address);
    expect(JSON.stringify(a)).not.toMatch(/ana|10\.0\.0\.1/);
  });

  it('counts attempts of unknown origin together', () => {
    expect(loginThrottleKeys('ana@example.com', undefined)).toEqual(loginThrottleKeys('ana@example.com', ''));
  });
});
