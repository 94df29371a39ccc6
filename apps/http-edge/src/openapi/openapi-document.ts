import { z } from 'zod';
import type { DocumentedRoute } from './route-table';

type JsonSchema = Record<string, unknown>;

/** The OpenAPI 3.1 document of a route table: zod schemas become JSON Schema 2020-12, its dialect. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly paths: Record<string, Record<string, JsonSchema>>;
  readonly components: {
    readonly schemas: Record<string, JsonSchema>;
    readonly securitySchemes: Record<string, JsonSchema>;
  };
}

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };
/**
 * Any route may get a request it cannot read (400: a malformed path or query string, NUL or
 * broken Unicode in a body, a body that does not inflate), be rate limited, or fail on our side.
 */
const ALWAYS = [400, 429, 500];

/** RFC 9457, with ficus's stable `code` and, for validation failures, the fields at fault. */
const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable, for programs to switch on' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
};

/**
 * `io: 'input'` for what clients send: a query's defaults and coercions are theirs to omit, and an
 * answer (`output`) has every field the schema fills in. The dialect is the document's, so the
 * per-schema `$schema` is dropped.
 */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parametersOf(where: 'path' | 'query', schema: z.ZodObject | undefined): JsonSchema[] {
  if (!schema) return [];
  const objectSchema = jsonSchemaOf(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(objectSchema.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (objectSchema.required ?? []).includes(name),
    schema: property,
  }));
}

function operationOf(route: DocumentedRoute): JsonSchema {
  const headers = Object.entries(route.headers ?? {}).map(([name, schema]) => ({
    name,
    in: 'header',
    required: false,
    schema: jsonSchemaOf(schema, 'input'),
  }));
  const parameters = [...parametersOf('path', route.params), ...parametersOf('query', route.query), ...headers];
  const success = route.success.schema
    ? {
        description: 'Success',
        content: {
          [route.success.contentType ?? 'application/json']: { schema: jsonSchemaOf(route.success.schema, 'output') },
        },
      }
    : { description: 'Success, no content' };
  const errors = [...new Set([...route.errors, ...ALWAYS])].sort((a, b) => a - b);
  return {
    operationId: `${route.method.toLowerCase()} ${route.route}`,
    summary: route.summary,
    ...(route.auth === 'none' ? { security: [] } : { security: [{ bearer: [] }] }),
    ...(route.auth === 'admin'
      ? { description: 'Admins only: a customer token gets 403.', 'x-ficus-roles': ['admin'] }
      : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchemaOf(route.body, 'input') } },
          },
        }
      : {}),
    responses: {
      [String(route.success.status)]: success,
      ...Object.fromEntries(
        errors.map((status) => [
          String(status),
          { description: 'Problem', content: { 'application/problem+json': { schema: PROBLEM_REF } } },
        ]),
      ),
    },
  };
}

/** `orders/:id` → `/orders/{id}`. */
export function openApiPathOf(route: string): string {
  return `/${route.replace(/:([A-Za-z_]\w*)/g, '{$1}')}`;
}

export function openApiDocumentOf(routes: readonly DocumentedRoute[]): OpenApiDocument {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = openApiPathOf(route.route);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ficus shop',
      version: '1',
      description: 'Every error is application/problem+json (RFC 9457) with a stable `code`.',
    },
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
