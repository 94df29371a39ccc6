import { randomBytes } from 'node:crypto';
import { KeyEncryption, KeyEncryptionError } from '@infra/security';
import { ShopClient } from '../support/http-client';
import { startShop } from '../support/shop';
import { asAdmin, freshDatabase } from '../support/test-database';

const kek = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('key-encryption keys (FICUS_KEY_ENCRYPTION_KEYS)', () => {
  it('seal and open a value bound to its row; a tampered value, another row or an unknown key does not open', () => {
    const first = kek('k1');
    const encryption = KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: first });
    const sealed = encryption.seal('{"d":"secret"}', 'kid-1');
    expect(sealed).toMatch(/^kek1:k1:/);
    expect(sealed).not.toContain('secret');
    expect(encryption.open(sealed, 'kid-1')).toBe('{"d":"secret"}');
    expect(() => encryption.open(sealed, 'kid-2')).toThrow(KeyEncryptionError);
    const parts = sealed.split(':');
    parts[4] = Buffer.from('{"d":"forged"}').toString('base64url');
    expect(() => encryption.open(parts.join(':'), 'kid-1')).toThrow(KeyEncryptionError);
    expect(() => KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: kek('other') }).open(sealed, 'kid-1')).toThrow(
      /"k1", which FICUS_KEY_ENCRYPTION_KEYS does not list/,
    );
  });

  it('fingerprint: equal for the same value of the same owner only, keyed (another key, another fingerprint), never the value', () => {
    const first = kek('k1');
    const encryption = KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: first });
    const print = encryption.fingerprint('tok_visa', 'customer:a');
    expect(print).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(print).not.toContain('tok_visa');
    expect(KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: first }).fingerprint('tok_visa', 'customer:a')).toBe(
      print,
    );
    expect(encryption.fingerprint('tok_mastercard', 'customer:a')).not.toBe(print);
    expect(encryption.fingerprint('tok_visa', 'customer:b')).not.toBe(print);
    // Not a plain hash anyone can recompute from a guessed token: it takes the key.
    expect(
      KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: kek('k2') }).fingerprint('tok_visa', 'customer:a'),
    ).not.toBe(print);
  });

  it('rotate: a new key first seals, the old one still opens, and what it sealed is due to be sealed again', () => {
    const old = kek('old');
    const sealed = KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: old }).seal('value', 'row');
    const rotated = KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: `${kek('new')}, ${old}` });
    expect(rotated.open(sealed, 'row')).toBe('value');
    expect(rotated.needsResealing(sealed)).toBe(true);
    expect(rotated.needsResealing(rotated.seal('value', 'row'))).toBe(false);
  });

  it('outside production, what the development key sealed still opens once real keys are set (and is due to be sealed again); in production it does not', () => {
    const sealed = KeyEncryption.fromEnv({}).seal('value', 'row');
    const real = kek('k1');
    const development = KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: real });
    expect(development.open(sealed, 'row')).toBe('value');
    expect(development.needsResealing(sealed)).toBe(true);
    expect(() =>
      KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: real, NODE_ENV: 'production' }).open(sealed, 'row'),
    ).toThrow(KeyEncryptionError);
  });

  it('are required with NODE_ENV=production, and must be well formed', () => {
    expect(() => KeyEncryption.fromEnv({ NODE_ENV: 'production' })).toThrow(
      /FICUS_KEY_ENCRYPTION_KEYS is required with NODE_ENV=production/,
    );
    expect(() =>
      KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: `development:${randomBytes(32).toString('base64')}` }),
    ).toThrow(/reserved/);
    expect(KeyEncryption.fromEnv({}).usesDevelopmentKey).toBe(true);
    for (const bad of [
      'k1',
      'k1:',
      `k1:${randomBytes(16).toString('base64')}`,
      `bad id:${randomBytes(32).toString('base64')}`,
      `${kek('a')},${kek('a')}`.replace(/a:[^,]*$/, `a:${randomBytes(32).toString('base64')}`),
    ]) {
      expect(() => KeyEncryption.fromEnv({ FICUS_KEY_ENCRYPTION_KEYS: bad })).toThrow(/FICUS_KEY_ENCRYPTION_KEYS/);
    }
  });
});

describe("identity's signing keys at rest (monolith)", () => {
  const saved = process.env.FICUS_KEY_ENCRYPTION_KEYS;
  afterAll(() => {
    if (saved === undefined) delete process.env.FICUS_KEY_ENCRYPTION_KEYS;
    else process.env.FICUS_KEY_ENCRYPTION_KEYS = saved;
  });

  it('are sealed, sealed again under a new key-encryption key, and a shop without the key refuses to start', async () => {
    const database = await freshDatabase('keys_at_rest');
    const [first, second] = [kek('first'), kek('second')];
    const rows = () =>
      asAdmin<{ kid: string; private_jwk: unknown; private_jwk_sealed: string | null }>(
        database.config,
        'SELECT kid, private_jwk, private_jwk_sealed FROM identity.signing_keys',
      );
    try {
      process.env.FICUS_KEY_ENCRYPTION_KEYS = first;
      let shop = await startShop('keys_at_rest', { database: database.config });
      const customer = await new ShopClient(shop.baseUrl).signUp();
      const stored = await rows();
      expect(stored).toHaveLength(1);
      expect(stored[0].private_jwk).toBeNull();
      expect(stored[0].private_jwk_sealed).toMatch(/^kek1:first:/);
      await shop.close();

      // Rotated: the new key seals, the old one still opens, and the start-up seals everything again.
      process.env.FICUS_KEY_ENCRYPTION_KEYS = `${second},${first}`;
      shop = await startShop('keys_at_rest', { database: database.config });
      expect((await customer.at(shop.baseUrl).get('/customers/me/orders')).status).toBe(200);
      expect((await rows()).map((row) => row.private_jwk_sealed?.split(':')[1])).toEqual(['second']);
      await shop.close();

      // The old key dropped: still signs. A key that never sealed them: refuses to start, and says why.
      process.env.FICUS_KEY_ENCRYPTION_KEYS = second;
      shop = await startShop('keys_at_rest', { database: database.config });
      expect((await new ShopClient(shop.baseUrl).signUp()).accessToken).toBeTruthy();
      await shop.close();
      process.env.FICUS_KEY_ENCRYPTION_KEYS = kek('stranger');
      await expect(startShop('keys_at_rest', { database: database.config })).rejects.toThrow(
        /cannot open its signing keys/,
      );
    } finally {
      await database.drop();
    }
  });

  it('a key stored in plain text by an earlier version is sealed when identity next loads it', async () => {
    const database = await freshDatabase('keys_plain');
    try {
      delete process.env.FICUS_KEY_ENCRYPTION_KEYS;
      let shop = await startShop('keys_plain', { database: database.config });
      const customer = await new ShopClient(shop.baseUrl).signUp();
      await shop.close();
      // As an earlier version stored it: the private JWK in plain text, nothing sealed.
      const encryption = KeyEncryption.fromEnv({});
      const [row] = await asAdmin<{ kid: string; private_jwk_sealed: string }>(
        database.config,
        'SELECT kid, private_jwk_sealed FROM identity.signing_keys',
      );
      await asAdmin(
        database.config,
        'UPDATE identity.signing_keys SET private_jwk = $2::jsonb, private_jwk_sealed = NULL WHERE kid = $1',
        [row.kid, encryption.open(row.private_jwk_sealed, row.kid)],
      );
      shop = await startShop('keys_plain', { database: database.config });
      expect((await customer.at(shop.baseUrl).get('/customers/me/orders')).status).toBe(200);
      const [after] = await asAdmin<{ private_jwk: unknown; private_jwk_sealed: string }>(
        database.config,
        'SELECT private_jwk, private_jwk_sealed FROM identity.signing_keys',
      );
      expect(after.private_jwk).toBeNull();
      expect(after.private_jwk_sealed).toMatch(/^kek1:development:/);
      await shop.close();
    } finally {
      await database.drop();
    }
  });
});
