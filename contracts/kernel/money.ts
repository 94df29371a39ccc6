import { z } from 'zod';

/** Money as an integer count of the currency's minor unit: no floating point ever touches it. */
export const MoneySchema = z.object({
  amountMinor: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/),
});
export type Money = z.infer<typeof MoneySchema>;

export function money(amountMinor: number, currency: string): Money {
  return MoneySchema.parse({ amountMinor, currency });
}

export function addMoney(a: Money, b: Money): Money {
  if (a.currency !== b.currency) {
    throw new RangeError(`cannot add ${a.currency} to ${b.currency}`);
  }
  return { amountMinor: a.amountMinor + b.amountMinor, currency: a.currency };
}

export function multiplyMoney(a: Money, factor: number): Money {
  if (!Number.isInteger(factor) || factor < 0) {
    throw new RangeError(`money can be multiplied by a whole non-negative number, not ${factor}`);
  }
  return { amountMinor: a.amountMinor * factor, currency: a.currency };
}

export function formatMoney(m: Money): string {
  return `${(m.amountMinor / 100).toFixed(2)} ${m.currency}`;
}
