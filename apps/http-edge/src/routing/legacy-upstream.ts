import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware, debugProxyErrorsPlugin, proxyEventsPlugin } from 'http-proxy-middleware';
import type { LegacyUpstream } from '@infra/topology';
import { problem } from '../problem/problem';
import { publicPathOf } from './canonical-path';
import { servesRoute } from './served-routes';

/** How long the legacy application may take to answer before the client gets a 502. */
const LEGACY_TIMEOUT_MS = 30_000;

/**
 * The strangler fig's first step: ficus stands in front of the application it replaces, serves
 * the routes its contexts already own, and proxies everything else to the old application —
 * requests for which ficus has no route (method and path), and those under `routes`, prefixes of
 * routes ficus has but should not serve yet. Moving a route over is deleting its prefix here.
 *
 * Proxied requests keep their method, path, query, headers and body (this runs before the body
 * parser, so the body streams through untouched), plus the request id and X-Forwarded-* set by
 * the edge (a client's own are dropped); answers come back with the legacy application's headers,
 * not the edge's security headers. When
 * the legacy application cannot be reached, or takes too long, the client gets a 502 problem.
 */
export function legacyUpstream(legacy: LegacyUpstream): RequestHandler {
  const logger = new Logger('LegacyUpstream');
  const proxy = createProxyMiddleware({
    target: legacy.url,
    changeOrigin: true,
    xfwd: true,
    proxyTimeout: LEGACY_TIMEOUT_MS,
    // Without the default plain-text error answer and console logger: errors answer a problem
    // body (below), and logging goes through the process's logger.
    ejectPlugins: true,
    plugins: [debugProxyErrorsPlugin, proxyEventsPlugin],
    on: {
      error: (error, request, target) => {
        logger.warn({ err: error, path: publicPathOf(request as Request) }, 'the legacy upstream did not answer');
        // A plain socket (an upgrade) has no status to answer with.
        if (typeof (target as Partial<ServerResponse>).setHeader !== 'function') {
          (target as Socket).destroy();
          return;
        }
        const response = target as ServerResponse<IncomingMessage>;
        if (response.headersSent) {
          response.destroy();
          return;
        }
        const body = problem(502, 'legacy-upstream-unavailable', 'the application behind this route did not answer', {
          instance: publicPathOf(request as Request),
        });
        response.statusCode = 502;
        response.setHeader('content-type', 'application/problem+json');
        response.end(JSON.stringify(body));
      },
    },
  });
  return (request: Request, response: Response, next: NextFunction) => {
    const path = request.path;
    const toLegacy = legacy.routes.some((prefix) => isUnder(path, prefix)) || !servesRoute(request.method, path);
    if (!toLegacy) return next();
    // The legacy application's answer comes back as it sends it: the headers the edge set so far
    // for its own answers (helmet's, CORS) go, the request id stays.
    for (const name of response.getHeaderNames()) if (name !== 'x-request-id') response.removeHeader(name);
    response.setHeader('X-Ficus-Upstream', 'legacy');
    // The edge trusts no X-Forwarded-* a client sends (docs/security.md): it sets them itself.
    for (const name of ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'forwarded'])
      delete request.headers[name];
    void proxy(request, response, next);
  };
}

/** Whether `path` is `prefix` or below it (`/reviews` covers `/reviews/7`, not `/reviewsx`). */
function isUnder(path: string, prefix: string): boolean {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(`${base}/`);
}

/** Whether ficus has a route for a method and path: every route of the route table. */
