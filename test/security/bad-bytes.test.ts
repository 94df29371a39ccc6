import { randomUUID } from 'node:crypto';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { ROUTE_TABLE } from '../../apps/http-edge/src/openapi/route-table';
import { rawRequest, ShopClient, type HttpAnswer } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { asAdmin } from '../support/test-database';

/**
 * Bytes PostgreSQL cannot store, and bodies that cannot be read, are the client's mistake: 400
 * problem+json before any handler runs, never a 500 (docs/security.md, issue 15 item 6). Every
 * public route and every string field of every body, from the route table the OpenAPI document
 * is made of, so a route or field added later is covered without a line here.
 */

type Json = { [key: string]: unknown };

/** NUL, unpaired surrogates (high, low, reversed pair): each refused by PostgreSQL's `text`. */
const BAD_STRINGS: Record<string, string> = {
  NUL: 'a\u0000b',
  'lone high surrogate': 'a\ud800b',
  'lone low surrogate': 'a\udc00b',
  'reversed pair': '\udc00\ud800',
};

/** Paths (`items.0.sku`) of every string in a body schema, read from its JSON Schema. */
function stringFieldsOf(schema: z.ZodType): string[][] {
  const fields: string[][] = [];
  const walk = (node: Json, at: string[]) => {
    if (node.type === 'string') fields.push(at);
    for (const [name, inner] of Object.entries((node.properties ?? {}) as Record<string, Json>))
      walk(inner, [...at, name]);
    if (node.items && typeof node.items === 'object') walk(node.items as Json, [...at, '0']);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const)
      for (const inner of (node[key] ?? []) as Json[]) walk(inner, at);
  };
  walk(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json, []);
  return fields;
}

/** A body with `value` at `path` (arrays where the path has an index), nothing else. */
function bodyWith(path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  return /^\d+$/.test(head) ? [bodyWith(rest, value)] : { [head]: bodyWith(rest, value) };
}

function expectRefused(answer: HttpAnswer, status: number, code: string, what: string): void {
  expect({ what, status: answer.status, code: (answer.body as Json | undefined)?.code }).toEqual({
    what,
    status,
    code,
  });
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}

describe('bad bytes and unreadable bodies at the edge (monolith)', () => {
  let shop: RunningShop;
  let admin: ShopClient;

  beforeAll(async () => {
    shop = await startShop('bad_bytes');
    const anonymous = new ShopClient(shop.baseUrl);
    const email = `admin-${randomUUID()}@example.com`;
    const registered = await anonymous.signUp(email, 'admin password here');
    await asAdmin(
      shop.database,
      `UPDATE identity.customers SET roles = ARRAY['customer', 'admin'] WHERE customer_id = $1`,
      [registered.customerId],
    );
    const login = await anonymous.post<{ accessToken: string }>('/identity/login', {
      email,
      password: 'admin password here',
    });
    admin = anonymous.withToken(login.body.accessToken);
  });
  afterAll(() => shop?.close());

  const routesWithBodies = ROUTE_TABLE.filter((route) => route.body);
  const pathOf = (route: string) =>
    `/${route
      .replace(/:sku/g, 'FICUS-LYRATA')
      .replace(/:id/g, randomUUID())
      .replace(/:context/g, 'ordering')}`;

  it('knows the string fields it sends bad bytes to (the route table has bodies with strings)', () => {
    const fields = routesWithBodies.flatMap((route) =>
      stringFieldsOf(route.body!).map((field) => `${route.route} ${field.join('.')}`),
    );
    expect(fields).toEqual(
      expect.arrayContaining([
        'orders paymentToken',
        'orders items.0.sku',
        'identity/login email',
        'identity/register password',
        'identity/token refreshToken',
      ]),
    );
  });

  it.each(Object.entries(BAD_STRINGS))(
    'a %s in any string field of any body (or in a field name) is 400 malformed-text, signed in as an admin',
    async (_name, bad) => {
      for (const route of routesWithBodies) {
        const targets = [...stringFieldsOf(route.body!).map((field) => bodyWith(field, bad)), { [`field${bad}`]: 1 }];
        for (const body of targets) {
          const answer = await admin.request(route.method, pathOf(route.route), {
            body,
            headers: { 'Idempotency-Key': randomUUID() },
          });
          expectRefused(answer, 400, 'malformed-text', `${route.method} ${route.route} ${JSON.stringify(body)}`);
        }
      }
    },
  );

  it('a NUL or broken UTF-8 in a path segment or a query string is 400 malformed-path, on every route', async () => {
    for (const route of ROUTE_TABLE) {
      for (const bad of ['%00', '%ED%A0%80', '%FF', '%C3', '%E2%82', '%0A']) {
        const path = route.route.includes(':')
          ? `/${route.route.replace(/:[a-z]+/, `x${bad}`)}`
          : `/${route.route}/${bad}`;
        expectRefused(
          await rawRequest(shop.baseUrl, route.method, path, { token: admin.accessToken }),
          400,
          'malformed-path',
          `${route.method} ${path}`,
        );
        const query = `${pathOf(route.route)}?page=${bad}`;
        expectRefused(
          await rawRequest(shop.baseUrl, route.method, query, { token: admin.accessToken }),
          400,
          'malformed-path',
          `${route.method} ${query}`,
        );
      }
    }
  });

  it('a body that does not inflate (gzip, br, deflate) is 400, an unknown encoding 415, and a good gzip body is read', async () => {
    const order = JSON.stringify({ items: [{ sku: 'FICUS-LYRATA', quantity: 1 }], paymentToken: 'tok_visa' });
    const post = (body: Buffer, encoding: string) =>
      rawRequest(shop.baseUrl, 'POST', '/orders', {
        body,
        token: admin.accessToken,
        headers: { 'content-encoding': encoding },
      });
    const truncated = gzipSync(order).subarray(0, 12);
    const garbage = Buffer.from('this is not compressed at all');
    expectRefused(await post(truncated, 'gzip'), 400, 'malformed-request', 'truncated gzip');
    expectRefused(await post(garbage, 'gzip'), 400, 'malformed-request', 'garbage as gzip');
    expectRefused(await post(garbage, 'br'), 400, 'malformed-request', 'garbage as br');
    expectRefused(await post(brotliCompressSync(order).subarray(0, 5), 'br'), 400, 'malformed-request', 'truncated br');
    expectRefused(await post(garbage, 'deflate'), 400, 'malformed-request', 'garbage as deflate');
    expectRefused(
      await post(Buffer.from(order), 'zstd-of-the-future'),
      415,
      'unsupported-encoding',
      'unknown encoding',
    );
    expect((await post(gzipSync(order), 'gzip')).status).toBe(202);
  });

  it('a query string is never echoed back: a problem names the path only', async () => {
    const secret = `secret-${randomUUID()}`;
    for (const target of [
      `/orders/not-an-id?access_token=${secret}`,
      `/no-such-route?access_token=${secret}`,
      `/orders/${randomUUID()}?access_token=${secret}`,
    ]) {
      const answer = await rawRequest(shop.baseUrl, 'GET', target, { token: admin.accessToken });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(answer.body)).not.toContain(secret);
      expect((answer.body as Json).instance).toBe(target.split('?')[0]);
    }
  });
});
