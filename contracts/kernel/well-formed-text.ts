/**
 * Text ficus stores is well-formed Unicode without NUL: PostgreSQL refuses both in `text` and
 * `jsonb` (`invalid byte sequence`, `unsupported Unicode escape sequence`). Checked where text
 * enters a process: an HTTP body (the edge), a call from another process, an event from Kafka.
 */

/**
 * The path of the first ill-formed string (or name) in a parsed JSON value, if any. Walked with a
 * stack of its own, not by recursion: 64 kB of `[[[[…` nests deeper than the call stack goes.
 */
export function illFormedTextIn(value: unknown, path: string): string | undefined {
  const pending: Array<[unknown, string]> = [[value, path]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, at] = next;
    if (typeof item === 'string') {
      if (!wellFormedText(item)) return at;
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, inner] of Object.entries(item)) {
        if (!wellFormedText(key)) return at;
        pending.push([inner, `${at}.${key}`]);
      }
    }
  }
  return undefined;
}

// In a `u` regex a well-formed pair is one code point, so \p{Cs} meets only an unpaired surrogate.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const ILL_FORMED = /[\u0000\p{Cs}]/u;

export function wellFormedText(text: string): boolean {
  return !ILL_FORMED.test(text);
}
