import { HttpSettings } from '@apps/http-edge';

const corsOrigins = (value: string | undefined) => HttpSettings.read({ FICUS_CORS_ORIGINS: value }).corsOrigins;
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';

const LISTED = 'https://shop.example.com';

/** Security headers (helmet) on every answer, and CORS for the configured origins only. */
describe('security headers and CORS (monolith)', () => {
  let shop: RunningShop;
  let client: ShopClient;
  beforeAll(async () => {
    shop = await startShop('http_headers', { env: { FICUS_CORS_ORIGINS: `${LISTED}, http://localhost:5173` } });
    client = new ShopClient(shop.baseUrl);
  });
  afterAll(() => shop?.close());

  it('gives a listed origin Access-Control-Allow-Origin, its own and never *', async () => {
    const answer = await client.request('GET', '/catalog/products', { headers: { origin: LISTED } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(LISTED);
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    expect(answer.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('lets a listed origin’s scripts read every header of ours an answer carries: the request id and the rate limit’s', async () => {
    const answer = await client.request('GET', '/catalog/products', { headers: { origin: LISTED } });
    const exposed = (answer.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    const ours = [...answer.headers.keys()].filter((name) => /^(ratelimit|retry-after|x-request-id)/.test(name));
    expect(ours).toEqual(expect.arrayContaining(['ratelimit-limit', 'ratelimit-remaining', 'x-request-id']));
    // Retry-After on a refusal, X-Ficus-Upstream on an answer of the legacy application (a route not moved yet).
    expect(exposed).toEqual(expect.arrayContaining([...ours, 'retry-after', 'x-ficus-upstream']));
  });

  it('answers a listed origin’s preflight with the methods and headers the API takes', async () => {
    const answer = await client.request('OPTIONS', '/orders', {
      headers: {
        origin: LISTED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, idempotency-key',
      },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(LISTED);
    expect(answer.headers.get('access-control-allow-methods')).toContain('POST');
    expect(answer.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('gives an unlisted origin no CORS header, on a request or a preflight', async () => {
    const evil = 'https://evil.example.com';
    const answer = await client.request('GET', '/catalog/products', { headers: { origin: evil } });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await client.request('OPTIONS', '/orders', {
      headers: { origin: evil, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it.each([
    ['an answer', '/catalog/products'],
    ['a problem', '/no/such/route'],
  ])('sets helmet’s security headers on %s', async (_what, path) => {
    const answer = await client.get(path);
    const headers = Object.fromEntries(answer.headers.entries());
    expect(headers).toMatchObject({
      'content-security-policy': expect.stringContaining("default-src 'self'"),
      'strict-transport-security': expect.stringContaining('max-age='),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    });
    expect(headers['x-powered-by']).toBeUndefined();
  });
});

describe('FICUS_CORS_ORIGINS', () => {
  it('is empty by default: no CORS at all', () => {
    expect(corsOrigins(undefined)).toEqual([]);
    expect(corsOrigins(' , ')).toEqual([]);
  });

  it('takes origins, trimmed, a trailing slash forgiven', () => {
    expect(corsOrigins('https://a.example.com, http://localhost:5173/')).toEqual([
      'https://a.example.com',
      'http://localhost:5173',
    ]);
  });

  it.each(['*', 'a.example.com', 'https://a.example.com/path', 'ftp://a.example.com', 'https://*.example.com'])(
    'refuses %s',
    (entry) => {
      expect(() => corsOrigins(entry)).toThrow(/FICUS_CORS_ORIGINS/);
    },
  );
});
