/** Time as the resilience policies see it: real in production, driven by hand in tests. */
export interface Clock {
  now(): number;
}

export const SYSTEM_CLOCK: Clock = { now: () => Date.now() };
