import { HTTP_CODE_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { ShopClient } from '../support/http-client';
import { startShop, type RunningShop } from '../support/shop';
import { edgeControllers } from '../support/edge-controllers';

type Json = Record<string, unknown>;

/** Every route the controllers declare, as `GET /orders/{id}` with the status it answers on success. */
function declaredOperations(): Map<string, number> {
  const controllers = edgeControllers();
  return new Map(
    controllers.flatMap((controller) => {
      const prefix = (Reflect.getMetadata(PATH_METADATA, controller) as string | undefined) ?? '/';
      return Object.getOwnPropertyNames(controller.prototype)
        .map((name) => (controller.prototype as Record<string, unknown>)[name])
        .filter(
          (handler): handler is object =>
            typeof handler === 'function' && Reflect.hasMetadata(METHOD_METADATA, handler),
        )
        .map((handler) => {
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
          const path = `/${[prefix, Reflect.getMetadata(PATH_METADATA, handler) as string].join('/')}`
            .replace(/\/+/g, '/')
            .replace(/(.)\/$/, '$1')
            .replace(/:(\w+)/g, '{$1}');
          const status =
            (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ?? (method === 'POST' ? 201 : 200);
          return [`${method} ${path}`, status] as const;
        });
    }),
  );
}

function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [inner] : refsIn(inner),
  );
}

function resolve(document: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Json)[part] : undefined), document);
}

/**
 * What the documented schema says is wrong with a value: the keywords z.toJSONSchema emits for
 * request bodies (ajv is only a transitive dependency here, so not one to lean on).
 */
function violations(schema: Json, value: unknown, at = 'body'): string[] {
  const errors: string[] = [];
  const type = schema.type as string | undefined;
  if (type === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object`];
    const properties = (schema.properties ?? {}) as Record<string, Json>;
    for (const name of (schema.required ?? []) as string[])
      if (!(name in value)) errors.push(`${at}.${name}: required`);
    for (const [name, inner] of Object.entries(value)) {
      if (properties[name]) errors.push(...violations(properties[name], inner, `${at}.${name}`));
      else if (schema.additionalProperties === false) errors.push(`${at}.${name}: not allowed`);
    }
  } else if (type === 'array') {
    if (!Array.isArray(value)) return [`${at}: not an array`];
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(`${at}: too few items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errors.push(`${at}: too many items`);
    value.forEach((item, index) => errors.push(...violations(schema.items as Json, item, `${at}.${index}`)));
  } else if (type === 'string') {
    if (typeof value !== 'string') return [`${at}: not a string`];
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) errors.push(`${at}: too short`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) errors.push(`${at}: too long`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${at}: pattern`);
  } else if (type === 'integer' || type === 'number') {
    if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value))) return [`${at}: not an ${type}`];
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum)
      errors.push(`${at}: too small`);
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${at}: too small`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${at}: too large`);
  }
  return errors;
}

describe('OpenAPI document at /docs', () => {
  let shop: RunningShop;
  let anonymous: ShopClient;
  let document: Json;

  beforeAll(async () => {
    shop = await startShop('openapi');
    anonymous = new ShopClient(shop.baseUrl);
    const answer = await anonymous.get<Json>('/docs/openapi.json');
    expect(answer.status).toBe(200);
    document = answer.body;
  });
  afterAll(() => shop?.close());

  it('is an OpenAPI 3.1 document whose every $ref resolves', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const paths = document.paths as Record<string, Record<string, Json>>;
    expect(Object.keys(paths).length).toBeGreaterThan(0);
    expect(document.components).toMatchObject({
      schemas: { Problem: expect.objectContaining({ type: 'object' }) },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    });
    for (const [path, operations] of Object.entries(paths)) {
      expect(path).toMatch(/^\//);
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      for (const operation of Object.values(operations)) {
        expect(Object.keys(operation.responses as Json).length).toBeGreaterThan(0);
        const inPath = ((operation.parameters ?? []) as Json[])
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort();
        expect(inPath).toEqual(templated);
      }
    }
    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect([ref, resolve(document, ref) !== undefined]).toEqual([ref, true]);
  });

  it('documents every route the controllers declare, with its success status, and nothing else', () => {
    const documented = new Map(
      Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(([path, operations]) =>
        Object.entries(operations).map(([method, operation]) => {
          const success = Object.keys(operation.responses as Json)
            .map(Number)
            .find((status) => status < 300);
          return [`${method.toUpperCase()} ${path}`, success] as const;
        }),
      ),
    );
    expect([...documented].sort()).toEqual([...declaredOperations()].sort());
  });

  it('describes errors as problem+json and signed-in routes with the bearer scheme', () => {
    const placeOrder = (document.paths as Record<string, Record<string, Json>>)['/orders'].post;
    expect(placeOrder.security).toEqual([{ bearer: [] }]);
    expect((placeOrder.responses as Record<string, Json>)['422']).toMatchObject({
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
  });

  it('documents a POST /orders body that the route accepts, and calls invalid what it refuses', async () => {
    const placeOrder = (document.paths as Record<string, Record<string, Json>>)['/orders'].post;
    const schema = ((placeOrder.requestBody as Json).content as Record<string, { schema: Json }>)['application/json']
      .schema;
    const customer = await anonymous.signUp();
    const good = { items: [{ sku: 'SOIL-MIX', quantity: 1 }], paymentToken: 'tok_visa' };
    expect(violations(schema, good)).toEqual([]);
    expect((await customer.request('POST', '/orders', { body: good })).status).toBe(202);
    const bad = { items: [{ sku: 'SOIL-MIX', quantity: 0 }], coupon: 'FREE' };
    expect(violations(schema, bad).sort()).toEqual([
      'body.coupon: not allowed',
      'body.items.0.quantity: too small',
      'body.paymentToken: required',
    ]);
    const refused = await customer.request('POST', '/orders', { body: bad });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
  });

  it('serves a page at /docs that links the document', async () => {
    const page = await anonymous.request('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(String(page.body)).toContain('href="/docs/openapi.json"');
    expect(String(page.body)).toContain('POST /orders');
  });
});
