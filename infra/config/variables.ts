import { z } from 'zod';

/**
 * The shapes an environment variable takes, with the messages start-up prints. An empty value
 * counts as unset everywhere (`FOO= npm start` is how a shell unsets one for a command).
 */

/** A variable a tool reads itself: an empty or blank value is undefined. */
export const given = (value: string | undefined): string | undefined => (value?.trim() ? value : undefined);

/** The same rule for `z.preprocess` before an optional or defaulted schema (and every group's read). */
export const unsetWhenEmpty = (value: unknown) => (typeof value === 'string' ? given(value) : value);

/** `a, b,,c ` as `['a', 'b', 'c']`: a comma-separated list, its entries trimmed, the empty ones dropped. */
export const commaSeparated = (value: string): string[] =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** true/false (also 1/0, yes/no, on/off, any case); anything else is refused, not read as false. */
export function flag(defaultValue: boolean) {
  return z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .transform((value) => value.trim().toLowerCase())
      .refine((value) => TRUE.includes(value) || FALSE.includes(value), {
        error: 'must be true or false (1/0, yes/no, on/off)',
      })
      .transform((value) => TRUE.includes(value))
      .optional()
      .transform((value) => value ?? defaultValue),
  );
}

/** A whole number between `min` and `max`, in `unit`. */
export function wholeNumber(options: { min: number; max: number; default: number; unit: string }) {
  return z.preprocess(
    unsetWhenEmpty,
    z.coerce
      .number({ error: `must be a number of ${options.unit}` })
      .int({ error: `must be a whole number of ${options.unit}` })
      .min(options.min, { error: `must be at least ${options.min} ${options.unit}` })
      .max(options.max, { error: `must be at most ${options.max} ${options.unit}` })
      .default(options.default),
  );
}

/** Free text, trimmed; unset or empty is `undefined`. */
export function optionalText() {
  return z.preprocess(
    (value) => (typeof value === 'string' ? value.trim() : value),
    z.preprocess(unsetWhenEmpty, z.string().optional()),
  );
}

/** An http(s) URL as every variable of one is checked. */
const HTTP_URL = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/** An http(s) URL, without its trailing slash; unset is `undefined`. */
export function optionalHttpUrl() {
  return z.preprocess(unsetWhenEmpty, HTTP_URL.transform(withoutTrailingSlash).optional());
}

/** An http(s) URL, without its trailing slash; unset gives `fallback`. */
export function httpUrl(fallback: string) {
  return z.preprocess(unsetWhenEmpty, HTTP_URL.default(fallback).transform(withoutTrailingSlash));
}

/** NODE_ENV read the way every part of ficus reads it: production or not (any case, spaces trimmed). */
export const NODE_ENV = z.preprocess(
  unsetWhenEmpty,
  z
    .string()
    .optional()
    .transform((value) => (value?.trim().toLowerCase() === 'production' ? 'production' : 'development')),
);

/** A TCP port, unset allowed; `listening` allows 0, which takes a free one (a test, two shops on one machine). */
export function portNumber(options: { listening?: boolean } = {}) {
  const lowest = options.listening ? 0 : 1;
  const error = `must be a port number (${lowest}–65535)`;
  return z.preprocess(
    unsetWhenEmpty,
    z.coerce.number({ error }).int({ error }).min(lowest, { error }).max(65_535, { error }).optional(),
  );
}
