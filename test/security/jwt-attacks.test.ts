import { createPublicKey, randomUUID } from 'node:crypto';
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWK, type KeyLike } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, ACCESS_TOKEN_TYPE } from '@contracts/identity';
import { KeyEncryption } from '@infra/security';
import { ShopClient, type HttpAnswer } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

/**
 * The JWT attack matrix (RFC 8725) against the running shop: every forged, stale or misdirected
 * token is a 401 problem+json, with no hint of why beyond the code and no stack trace. Tokens are
 * forged with identity's real signing key (read from its schema) where the attack is about the
 * claims, so that each case fails for its one reason; a control case proves the forgery works.
 */
describe('JWT attacks on the edge (monolith)', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;
  let customer: ShopClient & { customerId: string };
  let other: ShopClient & { customerId: string };
  let realKey: { kid: string; privateKey: KeyLike | Uint8Array };
  let publicJwk: JWK;

  beforeAll(async () => {
    shop = await startShop('jwt_attacks');
    anonymous = new ShopClient(shop.baseUrl);
    customer = await anonymous.signUp();
    other = await anonymous.signUp();
    // The key identity signs with, opened as identity opens it (sealed at rest, this environment's key-encryption keys).
    const [row] = await asAdmin<{ kid: string; private_jwk_sealed: string }>(
      shop.database,
      'SELECT kid, private_jwk_sealed FROM identity.signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1',
    );
    const privateJwk = JSON.parse(KeyEncryption.fromEnv(process.env).open(row!.private_jwk_sealed, row!.kid)) as JWK;
    realKey = { kid: row!.kid, privateKey: (await importJWK(privateJwk, 'ES256')) as KeyLike };
    const jwks = await anonymous.get<{ keys: JWK[] }>('/.well-known/jwks.json');
    publicJwk = jwks.body.keys.find((key) => key.kid === row!.kid)!;
  });
  afterAll(() => shop?.close());

  const now = () => Math.floor(Date.now() / 1000);

  interface Forge {
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
    omit?: string[];
    key?: KeyLike | Uint8Array;
  }
  /** An ES256 token like identity's, with the given changes. */
  async function forge({ header = {}, claims = {}, omit = [], key }: Forge = {}): Promise<string> {
    const payload: Record<string, unknown> = {
      sub: customer.customerId,
      roles: ['customer'],
      iss: ACCESS_TOKEN_ISSUER,
      aud: ACCESS_TOKEN_AUDIENCE,
      iat: now(),
      nbf: now(),
      exp: now() + 600,
      ...claims,
    };
    for (const claim of omit) delete payload[claim];
    const protectedHeader = { alg: 'ES256', kid: realKey.kid, typ: ACCESS_TOKEN_TYPE, ...header };
    for (const name of omit) delete (protectedHeader as Record<string, unknown>)[name];
    return new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(key ?? realKey.privateKey);
  }

  const asCaller = (token: string) => anonymous.withToken(token).get('/customers/me/orders');

  function expectRefused(answer: HttpAnswer, code = 'invalid-token'): void {
    expect({ status: answer.status, contentType: answer.headers.get('content-type') }).toEqual({
      status: 401,
      contentType: expect.stringContaining('application/problem+json'),
    });
    expect(answer.body).toMatchObject({ status: 401, code, detail: expect.any(String) });
    const text = JSON.stringify(answer.body);
    expect(text).not.toMatch(/\bat \S+ \(|\.ts:\d+|node_modules|stack|JWS|JWT|claim|signature/i);
  }

  it('accepts the control: a token made like identity makes them', async () => {
    const answer = await asCaller(await forge());
    expect(answer.status).toBe(200);
  });

  it('accepts exp and nbf within the 30 s clock skew', async () => {
    expect((await asCaller(await forge({ claims: { exp: now() - 10 } }))).status).toBe(200);
    expect((await asCaller(await forge({ claims: { nbf: now() + 10 } }))).status).toBe(200);
  });

  type Attack = [name: string, token: () => Promise<string>];
  const attacks: Attack[] = [
    [
      'alg none',
      async () =>
        new UnsecuredJWT({
          sub: customer.customerId,
          roles: ['customer', 'admin'],
          iss: ACCESS_TOKEN_ISSUER,
          aud: ACCESS_TOKEN_AUDIENCE,
          iat: now(),
          nbf: now(),
          exp: now() + 600,
        }).encode(),
    ],
    [
      'alg none with the real kid and typ',
      async () => {
        const header = base64url.encode(JSON.stringify({ alg: 'none', kid: realKey.kid, typ: ACCESS_TOKEN_TYPE }));
        const body = base64url.encode(
          JSON.stringify({
            sub: customer.customerId,
            roles: ['admin'],
            iss: ACCESS_TOKEN_ISSUER,
            aud: ACCESS_TOKEN_AUDIENCE,
            iat: now(),
            nbf: now(),
            exp: now() + 600,
          }),
        );
        return `${header}.${body}.`;
      },
    ],
    [
      'signed by another ES256 key under the real kid',
      async () => forge({ key: (await generateKeyPair('ES256')).privateKey }),
    ],
    [
      'signed by another ES256 key under an unknown kid',
      async () => forge({ key: (await generateKeyPair('ES256')).privateKey, header: { kid: randomUUID() } }),
    ],
    [
      'HS256 with the public key (PEM) as the secret',
      async () => {
        const pem = createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        });
        return forge({ header: { alg: 'HS256' }, key: new TextEncoder().encode(pem.toString()) });
      },
    ],
    [
      'HS256 with the public JWK (JSON) as the secret',
      async () => forge({ header: { alg: 'HS256' }, key: new TextEncoder().encode(JSON.stringify(publicJwk)) }),
    ],
    [
      'a JWK embedded in the header (jwk header injection)',
      async () => {
        const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
        return forge({ key: privateKey, header: { jwk: await exportJWK(publicKey), kid: undefined } });
      },
    ],
    [
      'expired beyond the skew',
      async () => forge({ claims: { iat: now() - 1000, nbf: now() - 1000, exp: now() - 60 } }),
    ],
    ['not yet valid beyond the skew', async () => forge({ claims: { nbf: now() + 120 } })],
    ['issued in the future beyond the skew', async () => forge({ claims: { iat: now() + 120 } })],
    [
      'issued longer ago than any access token lives',
      async () => forge({ claims: { iat: now() - 7200, nbf: now() - 7200 } }),
    ],
    ['no iat', async () => forge({ omit: ['iat'] })],
    ['wrong audience', async () => forge({ claims: { aud: 'some-other-api' } })],
    ['wrong issuer', async () => forge({ claims: { iss: 'https://evil.example.com' } })],
    ['no exp', async () => forge({ omit: ['exp'] })],
    ['no nbf', async () => forge({ omit: ['nbf'] })],
    ['no iss', async () => forge({ omit: ['iss'] })],
    ['no aud', async () => forge({ omit: ['aud'] })],
    ['no sub', async () => forge({ omit: ['sub'] })],
    ['a sub that is not a string', async () => forge({ claims: { sub: 42 } })],
    ['no typ', async () => forge({ omit: ['typ'] })],
    ['typ of another kind of JWT', async () => forge({ header: { typ: 'JWT' } })],
    [
      'tampered payload: another customer, the signature kept',
      async () => {
        const [header, , signature] = customer.accessToken!.split('.');
        const payload = JSON.parse(
          new TextDecoder().decode(base64url.decode(customer.accessToken!.split('.')[1]!)),
        ) as Record<string, unknown>;
        return `${header}.${base64url.encode(JSON.stringify({ ...payload, sub: other.customerId }))}.${signature}`;
      },
    ],
    [
      'tampered payload: admin role added, the signature kept',
      async () => {
        const [header, body, signature] = customer.accessToken!.split('.');
        const payload = JSON.parse(new TextDecoder().decode(base64url.decode(body!))) as Record<string, unknown>;
        return `${header}.${base64url.encode(JSON.stringify({ ...payload, roles: ['customer', 'admin'] }))}.${signature}`;
      },
    ],
    [
      'tampered header: alg switched to HS256, the signature kept',
      async () => {
        const [, body, signature] = customer.accessToken!.split('.');
        return `${base64url.encode(JSON.stringify({ alg: 'HS256', kid: realKey.kid, typ: ACCESS_TOKEN_TYPE }))}.${body}.${signature}`;
      },
    ],
    ['garbage', async () => 'not.a.jwt'],
    ['three empty parts', async () => '..'],
    ['random base64url', async () => base64url.encode(crypto.getRandomValues(new Uint8Array(300)))],
    ['a JWE-shaped token (five parts)', async () => 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aaaa.bbbb.cccc'],
  ];

  it.each(attacks)('refuses %s: 401 problem+json, no stack trace', async (_name, token) => {
    expectRefused(await asCaller(await token()));
  });

  it('refuses a forged admin token on an admin route with 401, not 403', async () => {
    const token = await forge({
      key: (await generateKeyPair('ES256')).privateKey,
      claims: { roles: ['customer', 'admin'] },
    });
    expectRefused(await anonymous.withToken(token).post('/admin/order-history/rebuild'));
  });

  it('refuses a revoked refresh token: 401 problem+json invalid-refresh-token', async () => {
    const email = `revoked-${randomUUID()}@example.com`;
    await anonymous.signUp(email, 'correct horse battery');
    const login = await anonymous.post<{ refreshToken: string }>('/identity/login', {
      email,
      password: 'correct horse battery',
    });
    expect((await anonymous.post('/identity/logout', { refreshToken: login.body.refreshToken })).status).toBe(204);
    expectRefused(
      await anonymous.post('/identity/token', { refreshToken: login.body.refreshToken }),
      'invalid-refresh-token',
    );
  });

  it('ends a GraphQL stream when its access token expires, not the clock skew later', async () => {
    // tok_slow: the order waits two seconds for its payment; the token is good for one at most.
    const placed = await customer.placeOrder([{ sku: 'FICUS-LYRATA', quantity: 1 }], 'tok_slow');
    const shortLived = anonymous.withToken(await forge({ claims: { exp: now() + 1 } }));
    const stream = await shortLived.graphqlStream<{ orderUpdated: { status: string } }>(
      'subscription ($id: ID!) { orderUpdated(id: $id) { status } }',
      { id: placed.body.orderId },
    );
    const results = await stream.rest();
    expect(results[0].data?.orderUpdated.status).toBe('PENDING');
    expect(results.at(-1)?.errors?.map((error) => error.extensions?.code)).toEqual(['stream-expired']);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty Bearer', 'Bearer '],
    ['Basic credentials', 'Basic YWRhOnNlY3JldA=='],
    ['a token with spaces', 'Bearer a b c'],
  ])('refuses %s with missing-token', async (_name, authorization) => {
    const answer = await anonymous.request('GET', '/customers/me/orders', {
      headers: authorization ? { authorization } : {},
    });
    expectRefused(answer, 'missing-token');
  });
});

describe('issuer and audience from the environment', () => {
  let shop: RunningShop;
  beforeAll(async () => {
    shop = await startShop('jwt_claims_env', {
      env: { FICUS_JWT_ISSUER: 'https://id.shop.example.com', FICUS_JWT_AUDIENCE: 'https://api.shop.example.com' },
    });
  });
  afterAll(() => shop?.close());

  it('issues tokens with the configured iss and aud, and refuses the default ones', async () => {
    const anonymous = new ShopClient(shop.baseUrl);
    const customer = await anonymous.signUp();
    const claims = JSON.parse(
      new TextDecoder().decode(base64url.decode(customer.accessToken!.split('.')[1]!)),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: 'https://id.shop.example.com', aud: 'https://api.shop.example.com' });
    expect((await customer.get('/customers/me/orders')).status).toBe(200);

    const [row] = await asAdmin<{ kid: string; private_jwk_sealed: string }>(
      shop.database,
      'SELECT kid, private_jwk_sealed FROM identity.signing_keys LIMIT 1',
    );
    const now = Math.floor(Date.now() / 1000);
    const withDefaults = await new SignJWT({ roles: ['customer'] })
      .setProtectedHeader({ alg: 'ES256', kid: row!.kid, typ: ACCESS_TOKEN_TYPE })
      .setSubject(customer.customerId)
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 600)
      .sign(
        await importJWK(
          JSON.parse(KeyEncryption.fromEnv(process.env).open(row!.private_jwk_sealed, row!.kid)) as JWK,
          'ES256',
        ),
      );
    expect((await anonymous.withToken(withDefaults).get('/customers/me/orders')).status).toBe(401);
  });
});
