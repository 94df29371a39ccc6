import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type IdentityApi } from '@contracts/identity';
import { ContractError } from '@contracts/kernel';
import { AccessTokenVerifier, RequestContexts, RequestSettings, VerifierClaimsSettings } from '@apps/http-edge';
import { eventually } from '../support/eventually';

const MINUTE = 60_000;
/** Every promise the verifier started has run its course: the faked identity does no I/O. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/**
 * An edge that did not serve a rotation learns that a key was retired (a leak) from its own look
 * at identity's keys: a token it verified before is answered from its cache, and once the key set
 * it was checked against is 5 minutes old, identity is asked again behind that answer. While
 * identity fails, it is asked again at most every 10 s, not at every request. Identity is faked at
 * its contract here (its getJwks), and the verifier's clock is driven by hand.
 */
describe('the access-token verifier, as its key set ages', () => {
  let key: KeyLike;
  let published: JWK[];
  let identityDown: boolean;
  let fetches: number;
  let now: number;
  let verifier: AccessTokenVerifier;

  const token = () =>
    new SignJWT({ roles: ['customer'] })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'key-1' })
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject('customer-7')
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('1h')
      .sign(key);

  beforeEach(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    published = [{ ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' }];
    identityDown = false;
    fetches = 0;
    now = Date.parse('2026-12-07T09:00:00Z');
    const identity = {
      getJwks: async () => {
        fetches += 1;
        if (identityDown) throw new ContractError('unavailable', 'upstream-unavailable', 'identity did not answer');
        return { keys: published };
      },
    } as unknown as IdentityApi;
    verifier = new AccessTokenVerifier(
      identity,
      new RequestContexts(RequestSettings.read({})),
      VerifierClaimsSettings.read({}),
    );
    verifier.useClock({ now: () => now });
  });

  it('refuses a verified token once a look at the keys, 5 minutes on, no longer finds its key', async () => {
    const bearer = `Bearer ${await token()}`;
    await expect(verifier.verify(bearer)).resolves.toMatchObject({ subject: 'customer-7' });
    expect(fetches).toBe(1);

    published = []; // retired at identity: the edge that served the rotation knows, this one not yet
    now += 4 * MINUTE + 59_000;
    await expect(verifier.verify(bearer)).resolves.toMatchObject({ subject: 'customer-7' });
    expect(fetches).toBe(1); // younger than 5 minutes: the cache answers, identity is not asked

    now += 1_000;
    // The answer does not wait for identity: it is still the cached one, and the look goes behind it.
    await expect(verifier.verify(bearer)).resolves.toMatchObject({ subject: 'customer-7' });
    await eventually(async () => {
      await expect(verifier.verify(bearer)).rejects.toMatchObject({ kind: 'unauthenticated', code: 'invalid-token' });
    });
    // The look behind the answer, then one more for the key id it no longer knows; no more after that.
    expect(fetches).toBe(3);
    await expect(verifier.verify(bearer)).rejects.toMatchObject({ code: 'invalid-token' });
    expect(fetches).toBe(3);
  });

  it('asks a failing identity again at most every 10 s, and keeps answering from the cache meanwhile', async () => {
    const bearer = `Bearer ${await token()}`;
    await verifier.verify(bearer);
    identityDown = true;
    now += 5 * MINUTE;
    await verifier.verify(bearer);
    await settled(); // identity's refusal is taken in (it answers at once, with no I/O)
    expect(fetches).toBe(2);

    // Many requests within the next 10 s: served from the cache, and identity is not asked again.
    for (let i = 0; i < 20; i++) {
      now += 400;
      await expect(verifier.verify(bearer)).resolves.toMatchObject({ subject: 'customer-7' });
    }
    await settled();
    expect(fetches).toBe(2);

    now += 2_000; // 10 s after the failed look
    identityDown = false;
    published = [];
    await verifier.verify(bearer);
    await eventually(async () => {
      await expect(verifier.verify(bearer)).rejects.toMatchObject({ kind: 'unauthenticated', code: 'invalid-token' });
    });
    expect(fetches).toBe(4); // the look at 10 s, then one for the key id it no longer knows
  });
});
