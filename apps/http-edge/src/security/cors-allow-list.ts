import type { INestApplication } from '@nestjs/common';
import { RATE_LIMIT_HEADERS } from '../rate-limit/rate-limit-headers';

/**
 * The browser origins allowed to call the API, from FICUS_CORS_ORIGINS (comma-separated, each
 * `scheme://host[:port]`). Empty by default: no CORS headers at all, so only same-origin pages and
 * non-browser clients use the API. `*` is refused: the list is an allow-list or nothing.
 */
export function parseCorsOrigins(entries: readonly string[]): string[] | { error: string } {
  const origins: string[] = [];
  for (const entry of entries) {
    const origin = URL.canParse(entry) ? new URL(entry) : undefined;
    const exact =
      origin &&
      /^https?:$/.test(origin.protocol) &&
      /^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/i.test(origin.hostname);
    if (!origin || !exact || origin.origin !== entry.replace(/\/$/, '')) {
      return { error: `"${entry}" is not an origin like https://shop.example.com` };
    }
    origins.push(origin.origin);
  }
  return origins;
}

/**
 * Answers CORS for the listed origins only: a listed origin gets Access-Control-Allow-Origin
 * (its own, never `*`), any other none. No credentials: the API authenticates with a Bearer
 * header, never cookies.
 */
export function applyCorsAllowList(app: INestApplication, origins: readonly string[]): void {
  if (origins.length === 0) return;
  app.enableCors({
    origin: [...origins],
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
    // What a client's script reads of an answer: ours, not only the CORS-safelisted few.
    exposedHeaders: ['x-request-id', 'retry-after', 'x-ficus-upstream', ...RATE_LIMIT_HEADERS],
    credentials: false,
    maxAge: 600,
  });
}
