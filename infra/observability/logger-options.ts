import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import { currentLogFields } from './log-fields';
import { activeTraceIds } from './tracing';

/**
 * JSON logs (pino); secrets never reach them. LOG_LEVEL sets the level (info by default). Every
 * line written inside a span carries its trace_id and span_id, and inside a served call or a
 * delivered event its module and, when it names one, its order_id.
 */
export function loggerOptions(): Params {
  return {
    pinoHttp: {
      level: process.env.LOG_LEVEL ?? 'info',
      mixin: () => ({ ...activeTraceIds(), ...currentLogFields() }),
      genReqId: (request: IncomingMessage) => String(request.headers['x-request-id'] ?? ''),
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'password', '*.password', 'accessToken', '*.accessToken', 'refreshToken', '*.refreshToken', 'credential', '*.credential'],
        censor: '[redacted]',
      },
      autoLogging: process.env.LOG_HTTP_REQUESTS !== 'false',
    },
  };
}
