import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';

/** OWASP's argon2id minimum: 19 MiB of memory, 2 iterations, 1 lane. */
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasher {
  /** A hash of a password nobody has, verified against when the email is unknown. */
  private readonly decoy = argon2.hash('decoy-password-for-unknown-accounts', ARGON2_OPTIONS);

  hash(password: string): Promise<string> {
    return argon2.hash(password, ARGON2_OPTIONS);
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    // Unknown account: spend the same work on the decoy, so timing does not tell which emails exist.
    const target = hash ?? (await this.decoy);
    const matches = await argon2.verify(target, password).catch(() => false);
    return hash !== undefined && matches;
  }
}
