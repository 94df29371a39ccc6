import { exportJWK, generateKeyPair, SignJWT, createLocalJWKSet, type JWK } from 'jose';
import { verifyAccessTokenFully, VerifiedTokens } from '@infra/security';

/**
 * The cache of verified access tokens (infra/security/access-token.ts): it answers only what a
 * fresh verification would, for as long as it would.
 */
describe('verified tokens', () => {
  const rules = { type: 'at+jwt', issuer: 'ficus-identity', audience: 'ficus-api' };

  async function signer(kid: string) {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256' };
    const sign = (claims: { sub: string; iat: number; exp: number }) =>
      new SignJWT({ roles: ['customer'] })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .setSubject(claims.sub)
        .setIssuer(rules.issuer)
        .setAudience(rules.audience)
        .setIssuedAt(claims.iat)
        .setNotBefore(claims.iat)
        .setExpirationTime(claims.exp)
        .sign(privateKey);
    return { jwk, sign };
  }

  it('answers for a verified token until its exp (plus the clock skew allowed), then no longer', async () => {
    const key = await signer('k1');
    const now = Math.floor(Date.now() / 1000);
    const token = await key.sign({ sub: 'ada', iat: now, exp: now + 900 });
    const verified = await verifyAccessTokenFully(token, createLocalJWKSet({ keys: [key.jwk] }), rules);
    expect(verified.validUntil).toBe((now + 900 + 30) * 1000);
    const cache = new VerifiedTokens();
    cache.remember(token, verified);
    expect(cache.get(token, (now + 900) * 1000)).toEqual({ subject: 'ada', roles: ['customer'] });
    expect(cache.get(token, (now + 930) * 1000)).toBeUndefined();
    expect(cache.get(token, now * 1000)).toBeUndefined(); // gone once expired, not just hidden
  });

  it('holds a long-lived token no longer than the maximum token age (an hour after iat)', async () => {
    const key = await signer('k1');
    const now = Math.floor(Date.now() / 1000);
    const verified = await verifyAccessTokenFully(
      await key.sign({ sub: 'ada', iat: now, exp: now + 86_400 }),
      createLocalJWKSet({ keys: [key.jwk] }),
      rules,
    );
    expect(verified.validUntil).toBe((now + 3600) * 1000);
  });

  it("forgets the tokens of a key that left identity's key set", async () => {
    const [old, current] = await Promise.all([signer('old'), signer('current')]);
    const now = Math.floor(Date.now() / 1000);
    const keys = createLocalJWKSet({ keys: [old.jwk, current.jwk] });
    const byOld = await old.sign({ sub: 'ada', iat: now, exp: now + 900 });
    const byCurrent = await current.sign({ sub: 'bob', iat: now, exp: now + 900 });
    const cache = new VerifiedTokens();
    cache.remember(byOld, await verifyAccessTokenFully(byOld, keys, rules));
    cache.remember(byCurrent, await verifyAccessTokenFully(byCurrent, keys, rules));
    cache.keepOnly(new Set(['current']));
    expect(cache.get(byOld)).toBeUndefined();
    expect(cache.get(byCurrent)).toEqual({ subject: 'bob', roles: ['customer'] });
  });

  it('keeps at most its size, forgetting the oldest first', async () => {
    const key = await signer('k1');
    const now = Math.floor(Date.now() / 1000);
    const keys = createLocalJWKSet({ keys: [key.jwk] });
    const cache = new VerifiedTokens(2);
    const tokens = await Promise.all(['a', 'b', 'c'].map((sub) => key.sign({ sub, iat: now, exp: now + 900 })));
    for (const token of tokens) cache.remember(token, await verifyAccessTokenFully(token, keys, rules));
    expect(tokens.map((token) => cache.get(token)?.subject)).toEqual([undefined, 'b', 'c']);
  });
});
