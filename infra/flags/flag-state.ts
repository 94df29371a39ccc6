/**
 * What a flag says: on for everyone, off for everyone, or on for a stable share of subjects
 * (users, aggregates) chosen by bucketing (./bucketing.ts).
 */
export type FlagState =
  { readonly kind: 'on' } | { readonly kind: 'off' } | { readonly kind: 'percent'; readonly percent: number };

export const FLAG_ON: FlagState = Object.freeze({ kind: 'on' });
export const FLAG_OFF: FlagState = Object.freeze({ kind: 'off' });

export function percentState(percent: number): FlagState {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new FlagStateError(`a percentage is a whole number from 0 to 100, not ${percent}`);
  }
  return Object.freeze({ kind: 'percent', percent });
}

export class FlagStateError extends Error {
  override readonly name = 'FlagStateError';
}

/**
 * Reads what a person types: `on`, `off`, `30`, `30%`, `percent 30`, `percent=30`. Also what
 * {@link formatFlagState} writes, so the change log reads back.
 */
export function parseFlagState(text: string): FlagState {
  const value = text.trim().toLowerCase();
  if (value === 'on' || value === 'true') return FLAG_ON;
  if (value === 'off' || value === 'false') return FLAG_OFF;
  const match = /^(?:percent\s*[= ]\s*)?(\d{1,3})\s*%?$/.exec(value);
  if (match) return percentState(Number(match[1]));
  throw new FlagStateError(
    `"${text}" is no flag state: say on, off, or a percentage from 0 to 100 (e.g. 30 or "percent 30")`,
  );
}

/** `on`, `off` or `percent 30`: how states are shown and stored in the change log. */
export function formatFlagState(state: FlagState): string {
  return state.kind === 'percent' ? `percent ${state.percent}` : state.kind;
}

export function sameFlagState(a: FlagState, b: FlagState): boolean {
  return formatFlagState(a) === formatFlagState(b);
}
