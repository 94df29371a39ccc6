import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { defineSettings, NODE_ENV, optionalText } from '@infra/config';

/** A key-encryption key and the id that names it in what it sealed. */
interface Kek {
  readonly id: string;
  readonly key: Buffer;
}

/** What cannot be opened: an unknown key, a tampered or misplaced value. Not transient: a configuration to fix. */
export class KeyEncryptionError extends Error {
  override readonly name = 'KeyEncryptionError';
}

const FORMAT = 'kek1';
const KEK_ID = /^[A-Za-z0-9_-]{1,32}$/;
/** Used when no key is configured outside production, so development needs no setup; never secret. */
const DEVELOPMENT_KEK: Kek = {
  id: 'development',
  key: createHash('sha256').update('ficus development key-encryption key: not a secret').digest(),
};

/**
 * Secrets at rest (identity's private signing keys, payments' card tokens) sealed with a
 * key-encryption key from the environment: AES-256-GCM, a fresh 96-bit IV per value, and the
 * row's identity as additional data, so a sealed value copied to another row does not open.
 *
 * `FICUS_KEY_ENCRYPTION_KEYS` lists the keys as `<id>:<32 bytes in base64>`, comma-separated;
 * the first seals, all of them open, so a key is rotated by putting a new one first and dropping
 * the old one once everything was sealed again (`needsResealing`). With `NODE_ENV=production`
 * the variable is required; otherwise a fixed development key (not a secret) stands in, and it
 * still opens what it sealed once real keys are set, so a development database moves over to
 * them (never in production: what that key sealed is as good as plain text). A sealed value
 * reads `kek1:<key id>:<iv>:<tag>:<ciphertext>` (base64url).
 */
export class KeyEncryption {
  private fingerprintKey?: Buffer;

  private constructor(private readonly keys: readonly Kek[]) {}

  static fromEnv(env: Readonly<Record<string, string | undefined>>): KeyEncryption {
    const text = env.FICUS_KEY_ENCRYPTION_KEYS?.trim();
    if (!text) {
      if (env.NODE_ENV === 'production') {
        throw new Error(
          'FICUS_KEY_ENCRYPTION_KEYS is required with NODE_ENV=production: <id>:<32 random bytes in base64>, e.g. ' +
            '`k1:$(openssl rand -base64 32)` (docs/security.md, Secrets)',
        );
      }
      return new KeyEncryption([DEVELOPMENT_KEK]);
    }
    const keys = text.split(',').map((entry, n) => {
      const [id, encoded, ...rest] = entry.trim().split(':');
      const key = Buffer.from(encoded ?? '', 'base64');
      if (!KEK_ID.test(id ?? '') || rest.length > 0 || key.length !== 32) {
        throw new Error(
          `FICUS_KEY_ENCRYPTION_KEYS entry ${n + 1} must read <id>:<32 bytes in base64> (id: letters, digits, _ or -)`,
        );
      }
      return { id, key };
    });
    if (new Set(keys.map((k) => k.id)).size !== keys.length)
      throw new Error('FICUS_KEY_ENCRYPTION_KEYS names one key id twice');
    if (keys.some((k) => k.id === DEVELOPMENT_KEK.id))
      throw new Error(`FICUS_KEY_ENCRYPTION_KEYS: the key id "${DEVELOPMENT_KEK.id}" is reserved`);
    return new KeyEncryption(env.NODE_ENV === 'production' ? keys : [...keys, DEVELOPMENT_KEK]);
  }

  /** Whether values are sealed with the development key (no FICUS_KEY_ENCRYPTION_KEYS). */
  get usesDevelopmentKey(): boolean {
    return this.keys[0] === DEVELOPMENT_KEK;
  }

  seal(plaintext: string, boundTo: string): string {
    const kek = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', kek.key, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      FORMAT,
      kek.id,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      ciphertext.toString('base64url'),
    ].join(':');
  }

  open(sealed: string, boundTo: string): string {
    const [format, id, iv, tag, ciphertext, ...rest] = sealed.split(':');
    if (format !== FORMAT || rest.length > 0 || !iv || !tag || ciphertext === undefined)
      throw new KeyEncryptionError('not a sealed value');
    const kek = this.keys.find((k) => k.id === id);
    if (!kek) {
      throw new KeyEncryptionError(
        `sealed with key-encryption key "${id}", which FICUS_KEY_ENCRYPTION_KEYS does not list (keys: ` +
          `${this.keys.map((k) => k.id).join(', ')})`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(boundTo, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyEncryptionError(
        `a value sealed with key "${id}" does not open: tampered with, or moved from another row`,
      );
    }
  }

  /**
   * A keyed fingerprint of a secret: HMAC-SHA-256 of the value and what it belongs to, under a key
   * derived (HKDF) from the one that seals. Equal for the same value of the same owner, and unlike
   * a plain hash it cannot be matched against guesses (a test card token is a short word) without
   * the key. A new sealing key gives new fingerprints.
   */
  fingerprint(value: string, boundTo: string): string {
    this.fingerprintKey ??= Buffer.from(
      hkdfSync('sha256', this.keys[0].key, Buffer.alloc(0), 'ficus fingerprint v1', 32),
    );
    return createHmac('sha256', this.fingerprintKey)
      .update(JSON.stringify([boundTo, value]))
      .digest('base64url');
  }

  /** Sealed with a key other than the first (the one that seals now): to be sealed again. */
  needsResealing(sealed: string): boolean {
    return sealed.split(':')[1] !== this.keys[0].id;
  }
}

/**
 * The key-encryption keys of the process (FICUS_KEY_ENCRYPTION_KEYS, and NODE_ENV for whether the
 * development key may stand in), made once at start-up and shared by every context that seals
 * (identity's signing keys, payments' vault).
 */
export const KeyEncryptionSettings = defineSettings(
  'key encryption',
  // NODE_ENV read as every part reads it: ` Production ` is production here too.
  { FICUS_KEY_ENCRYPTION_KEYS: optionalText(), NODE_ENV },
  (values) => KeyEncryption.fromEnv(values),
);
