import { addMoney, formatMoney, money, MoneySchema, multiplyMoney } from '@contracts/kernel';

describe('money', () => {
  it('builds valid money', () => {
    expect(money(1_250, 'EUR')).toEqual({ amountMinor: 1_250, currency: 'EUR' });
    expect(money(0, 'USD')).toEqual({ amountMinor: 0, currency: 'USD' });
  });

  it.each<[number, string]>([
    [-1, 'EUR'],
    [1.5, 'EUR'],
    [100, 'eur'],
    [100, 'EURO'],
    [100, ''],
  ])('rejects %p %p', (amountMinor, currency) => {
    expect(() => money(amountMinor, currency)).toThrow();
    expect(MoneySchema.safeParse({ amountMinor, currency }).success).toBe(false);
  });

  it('adds money of one currency', () => {
    expect(addMoney(money(150, 'EUR'), money(275, 'EUR'))).toEqual({ amountMinor: 425, currency: 'EUR' });
  });

  it('refuses to add different currencies', () => {
    expect(() => addMoney(money(150, 'EUR'), money(150, 'USD'))).toThrow(RangeError);
  });

  it('multiplies by a whole non-negative number', () => {
    expect(multiplyMoney(money(333, 'EUR'), 3)).toEqual({ amountMinor: 999, currency: 'EUR' });
    expect(multiplyMoney(money(333, 'EUR'), 0)).toEqual({ amountMinor: 0, currency: 'EUR' });
  });

  it.each([-1, 1.5, Number.NaN])('refuses to multiply by %p', (factor) => {
    expect(() => multiplyMoney(money(100, 'EUR'), factor)).toThrow(RangeError);
  });

  it.each<[number, string]>([
    [0, '0.00 EUR'],
    [5, '0.05 EUR'],
    [1_250, '12.50 EUR'],
    [123_456, '1234.56 EUR'],
  ])('formats %p minor units as %p', (amountMinor, formatted) => {
    expect(formatMoney(money(amountMinor, 'EUR'))).toBe(formatted);
  });
});
