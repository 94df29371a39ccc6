import { createHash, randomBytes } from 'node:crypto';

/**
 * A refresh token is 256 random bits and nothing else (no claims to forge or parse); identity keeps
 * only its SHA-256, so the table alone signs no one in. A slow hash would add nothing: the secret
 * is random, not a password anyone could guess.
 */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
