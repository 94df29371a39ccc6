import { createHash } from 'node:crypto';
import type { FlagState } from './flag-state';

/**
 * The bucket (0..99) of a subject under a flag: the first 32 bits of SHA-256(flag name, NUL,
 * subject), modulo 100. The same subject always lands in the same bucket of a flag, in every
 * process and after every restart; the flag's name is part of the hash so that two flags at 10 %
 * do not pick the same unlucky tenth of customers. (2^32 mod 100 = 96 makes the lowest 96
 * buckets more likely by one part in 45 million: far below anything a rollout can notice.)
 */
export function bucketOf(flagName: string, subject: string): number {
  const digest = createHash('sha256').update(flagName).update('\0').update(subject).digest();
  return digest.readUInt32BE(0) % 100;
}

/**
 * Whether a state holds for one subject. `percent N` holds for the subjects whose bucket is below
 * N, so raising N only adds subjects and lowering it only removes them: nobody flips back and
 * forth during a rollout. Without a subject there is nothing to bucket: a percentage holds only
 * at 100.
 */
export function holdsFor(state: FlagState, flagName: string, subject?: string): boolean {
  switch (state.kind) {
    case 'on':
      return true;
    case 'off':
      return false;
    case 'percent':
      if (state.percent >= 100) return true;
      if (state.percent <= 0 || subject === undefined) return false;
      return bucketOf(flagName, subject) < state.percent;
  }
}
