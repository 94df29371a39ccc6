import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type KeyLike } from 'jose';
import { CatalogContract } from '@contracts/catalog';
import { ContractError, type CallContext } from '@contracts/kernel';
import { InProcessContractTransport } from '@infra/messaging';
import { GrpcContractServer, GrpcContractTransport, grpcServiceOf } from '@infra/messaging/grpc';
import { AccessTokenVerifier, RequestContexts, RequestSettings, VerifierClaimsSettings } from '@apps/http-edge';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type IdentityApi } from '@contracts/identity';

/** The claims identity signs by default, as a process reads them with no FICUS_JWT_* set. */
const CLAIMS = VerifierClaimsSettings.read({});

const RULES = { issuer: ACCESS_TOKEN_ISSUER, audience: ACCESS_TOKEN_AUDIENCE };
const ctx = (extra: Partial<CallContext> = {}): CallContext => ({
  correlationId: 'relay-test',
  deadline: Date.now() + 3_000,
  ...extra,
});

/**
 * The end user crosses a process as the access token the edge received, and the serving process
 * takes the caller from that token alone, verified as the edge verifies it, against the keys
 * identity publishes (its contract's getJwks, faked here at the contract): a caller claimed in
 * plain metadata is never believed, a token that does not verify fails the call instead of
 * serving it as nobody's, and identity out of reach is `unavailable`, not a bad token.
 */
describe('the end user relayed between services, signed', () => {
  let signingKey: KeyLike;
  let identityDown = false;
  let server: GrpcContractServer;
  let client: GrpcContractTransport;
  let raw: Client;
  let jwksFetches = 0;
  let verifier: AccessTokenVerifier;

  const token = (
    claims: { sub?: string; roles?: string[] } = {},
    key: KeyLike = signingKey,
    kid = 'key-1',
    expiresIn = '5m',
  ) =>
    new SignJWT({ roles: claims.roles ?? ['customer'] })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .setIssuer(RULES.issuer)
      .setAudience(RULES.audience)
      .setSubject(claims.sub ?? 'customer-7')
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(expiresIn)
      .sign(key);

  /** What the serving side saw as the call's end user, written into the product's name. */
  const seenBy = async (context: CallContext) =>
    ((await client.unary(CatalogContract, 'getProduct', context, { sku: 'FIG' })) as { name: string }).name;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    signingKey = pair.privateKey;
    const published: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
    const identity = {
      getJwks: async () => {
        jwksFetches += 1;
        if (identityDown) throw new ContractError('unavailable', 'upstream-unavailable', 'identity did not answer');
        return { keys: [published] };
      },
    } as unknown as IdentityApi;
    verifier = new AccessTokenVerifier(identity, new RequestContexts(RequestSettings.read({})), CLAIMS);

    const local = new InProcessContractTransport();
    local.serve(CatalogContract, {
      listProducts: async () => ({ items: [], page: 1, pageSize: 1, total: 0 }),
      getProducts: async () => ({ products: [], missingSkus: [] }),
      getProduct: async (served: CallContext) => ({
        sku: 'FIG',
        name: served.caller ? `${served.caller.subject} as ${served.caller.roles.join('+')}` : 'nobody',
        price: { amountMinor: 100, currency: 'EUR' },
      }),
    });
    server = new GrpcContractServer(local, {
      host: '127.0.0.1',
      port: 0,
      verifyCaller: (credential) => verifier.verify(`Bearer ${credential}`),
    });
    server.expose(CatalogContract);
    const address = `127.0.0.1:${await server.listen()}`;
    client = new GrpcContractTransport({ address });
    raw = new Client(address, credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    raw.close();
    await server.close(0);
  });

  it('serves the call as the user the relayed token names, with its roles', async () => {
    await expect(seenBy(ctx({ credential: await token({ sub: 'customer-7', roles: ['customer'] }) }))).resolves.toBe(
      'customer-7 as customer',
    );
    await expect(seenBy(ctx({ credential: await token({ sub: 'ops-1', roles: ['admin'] }) }))).resolves.toBe(
      'ops-1 as admin',
    );
    expect(jwksFetches).toBe(1); // the keys are cached, not fetched per call
  });

  it('never sends the caller as plain data: without a token the call has no end user', async () => {
    await expect(seenBy(ctx({ caller: { subject: 'mallory', roles: ['admin'] } }))).resolves.toBe('nobody');
  });

  it('ignores a caller claimed in metadata by a client of its own making', async () => {
    const service = grpcServiceOf(CatalogContract).getProduct;
    const forged = new Metadata();
    forged.set('x-ficus-caller', JSON.stringify({ subject: 'mallory', roles: ['admin'] }));
    const answer = await new Promise<{ name: string }>((resolve, reject) =>
      raw.makeUnaryRequest(
        service.path,
        service.requestSerialize,
        service.responseDeserialize,
        { sku: 'FIG' },
        forged,
        (error: ServiceError | null, value?: unknown) => (error ? reject(error) : resolve(value as { name: string })),
      ),
    );
    expect(answer.name).toBe('nobody');
  });

  it('answers unavailable, not unauthenticated, when identity cannot give its keys at all', async () => {
    const cold = new AccessTokenVerifier(
      {
        getJwks: async () => {
          throw new ContractError('unavailable', 'upstream-unavailable', 'identity did not answer');
        },
      } as unknown as IdentityApi,
      new RequestContexts(RequestSettings.read({})),
      CLAIMS,
    );
    const local = new InProcessContractTransport();
    local.serve(CatalogContract, {
      listProducts: async () => ({}),
      getProducts: async () => ({}),
      getProduct: async () => ({}),
    } as never);
    const lonely = new GrpcContractServer(local, {
      host: '127.0.0.1',
      port: 0,
      verifyCaller: (credential) => cold.verify(`Bearer ${credential}`),
    });
    lonely.expose(CatalogContract);
    const lonelyClient = new GrpcContractTransport({ address: `127.0.0.1:${await lonely.listen()}` });
    try {
      const refused = await lonelyClient
        .unary(CatalogContract, 'getProduct', ctx({ credential: await token() }), { sku: 'FIG' })
        .catch((error: unknown) => error);
      expect(refused).toMatchObject({ kind: 'unavailable' });
    } finally {
      lonelyClient.close();
      await lonely.close(0);
    }
  });

  it('keeps verifying with the keys it has while identity is away', async () => {
    identityDown = true;
    try {
      await expect(seenBy(ctx({ credential: await token({ sub: 'customer-9' }) }))).resolves.toBe(
        'customer-9 as customer',
      );
    } finally {
      identityDown = false;
    }
  });

  it.each([
    ['signed with another key', async () => token({}, (await generateKeyPair('ES256')).privateKey)],
    ['expired', async () => token({}, signingKey, 'key-1', '-10m')],
    [
      'unsigned (alg none)',
      async () =>
        new UnsecuredJWT({ roles: ['admin'] })
          .setIssuer(RULES.issuer)
          .setAudience(RULES.audience)
          .setSubject('mallory')
          .setIssuedAt()
          .setExpirationTime('5m')
          .encode(),
    ],
    [
      'tampered payload',
      async () => {
        const [header, , signature] = (await token({ sub: 'customer-7' })).split('.');
        const payload = Buffer.from(
          JSON.stringify({
            sub: 'ops-1',
            roles: ['admin'],
            iss: RULES.issuer,
            aud: RULES.audience,
            iat: 1,
            nbf: 1,
            exp: 9_999_999_999,
          }),
        ).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
    ],
  ])('refuses a relayed token %s as unauthenticated', async (_case, make) => {
    const refused = await seenBy(ctx({ credential: await make() })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ContractError);
    expect(refused).toMatchObject({ kind: 'unauthenticated', code: 'invalid-token' });
  });
});
