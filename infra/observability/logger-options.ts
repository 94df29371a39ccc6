import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import { stdSerializers } from 'pino';
import { z } from 'zod';
import { defineSettings, flag } from '@infra/config';
import { currentLogFields } from './log-fields';
import { activeTraceIds } from './tracing';

/** Every spelling of a card token's field in ficus; `token` covers identity's mailed confirmation token too. */
export const CARD_TOKEN_FIELDS = ['paymentToken', 'payment_token', 'token'] as const;

/** Fields whose values are secrets wherever they are: credentials, and card tokens in every spelling. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  'password',
  'accessToken',
  'refreshToken',
  'credential',
  ...CARD_TOKEN_FIELDS,
]);

/**
 * A copy of a JSON value with every secret field's value replaced, at any depth: for what leaves
 * a process to be read by a person (a dead letter's envelope), as the logger redacts its lines.
 */
export function withoutSecrets(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value) ?? 'null', (key, inner: unknown) =>
      SECRET_FIELDS.has(key) && inner !== null ? '[redacted]' : inner,
    );
  } catch {
    // Nested deeper than JSON goes: shown as nothing rather than failing the page it is on.
    return { notShown: 'nested too deeply to show' };
  }
}

export interface LoggingOptions {
  readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** A line per HTTP request (LOG_HTTP_REQUESTS, true by default). */
  readonly httpRequests: boolean;
}

/** LOG_LEVEL and LOG_HTTP_REQUESTS, for every process. */
export const LoggingSettings = defineSettings(
  'process: logging',
  {
    LOG_LEVEL: z.preprocess(
      (value) => (typeof value === 'string' ? value.trim().toLowerCase() || undefined : value),
      z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
          error: 'must be one of fatal, error, warn, info, debug, trace, silent',
        })
        .default('info'),
    ),
    LOG_HTTP_REQUESTS: flag(true),
  },
  (values): LoggingOptions => ({ level: values.LOG_LEVEL, httpRequests: values.LOG_HTTP_REQUESTS }),
);

/**
 * JSON logs (pino); secrets never reach them: no authorization header, cookie, password or token
 * field (card tokens in every spelling, up to two levels deep), no query string of a request
 * (`?access_token=`), and no values of a failed query (its parameters are an order's lines and card token,
 * PostgreSQL's `detail` repeats a key's value). LOG_LEVEL sets the level (info by default). Every
 * line written inside a span carries its trace_id and span_id, and inside a served call or a
 * delivered event its module and the `<type>_id` of the aggregate its method or event declares.
 */
export function loggerOptions(logging: LoggingOptions): Params {
  return {
    pinoHttp: {
      level: logging.level,
      mixin: () => ({ ...activeTraceIds(), ...currentLogFields() }),
      genReqId: (request: IncomingMessage) => String(request.headers['x-request-id'] ?? ''),
      serializers: { req: withoutQuery, err: withoutValues },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          ...['password', 'accessToken', 'refreshToken', 'credential'].flatMap((field) => [field, `*.${field}`]),
          // Card tokens, as the contracts (paymentToken, token), the .proto and SQL (payment_token,
          // token) spell them, also inside an event's payload or a call's request.
          ...CARD_TOKEN_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
        ],
        censor: '[redacted]',
      },
      autoLogging: logging.httpRequests,
    },
  };
}

interface SerializedRequest {
  url?: string;
  query?: unknown;
  params?: unknown;
  [field: string]: unknown;
}

function withoutQuery(request: SerializedRequest): SerializedRequest {
  const { query: _query, params: _params, ...rest } = request;
  return { ...rest, url: typeof rest.url === 'string' ? rest.url.split('?', 1)[0] : rest.url };
}

/** Fields of TypeORM's QueryFailedError and of node-postgres' DatabaseError that carry row values. */
const VALUE_FIELDS = ['parameters', 'detail', 'where', 'internalQuery'] as const;

export function withoutValues(error: unknown): unknown {
  const serialized: unknown = error instanceof Error ? stdSerializers.err(error) : error;
  return stripValues(serialized, 0);
}

function stripValues(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > 3) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const field of VALUE_FIELDS) {
    if (field in copy) copy[field] = '[redacted]';
  }
  for (const nested of ['driverError', 'cause'] as const) {
    if (nested in copy) copy[nested] = stripValues(copy[nested], depth + 1);
  }
  return copy;
}
