import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware, debugProxyErrorsPlugin, proxyEventsPlugin } from 'http-proxy-middleware';
import type { LegacyUpstream } from '@infra/topology';
import { problem } from '../problem/problem';
import { clientAddressOf, vouchedAddressesOf } from '../security/trusted-proxies';
import { publicPathOf } from './canonical-path';
import { servesRoute } from './served-routes';

/**
 * Request headers that claim the client's address or the hops it came through, as the proxies
 * and frameworks a legacy application may sit on read them (Rails' Client-IP, Phoenix's
 * X-Real-IP and X-Client-IP, the CDNs' own): none of a client's reaches the legacy application.
 */
const CLIENT_ADDRESS_HEADERS = new Set([
  'forwarded',
  'forwarded-for',
  'x-real-ip',
  'x-client-ip',
  'client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-proxyuser-ip',
  'x-envoy-external-address',
]);
/**
 * Besides the names above, any that reads as a client's or a peer's address, as platforms name them
 * (`fly-client-ip`, `x-azure-clientip`, `cf-connecting-ipv6`, `cf-pseudo-ipv4`, `x-appengine-user-ip`).
 */
const ADDRESS_LIKE = /(^|-)(client-?ip|socket-?ip|user-ip|connecting-ip(v6)?|pseudo-ipv4|ip-?addr(ess)?)$/;
/** Underscores too: servers that build CGI-style names (HTTP_CLIENT_IP) read `client_ip` as `client-ip`. */
const claimsClientAddress = (name: string) => {
  const dashed = name.replace(/_/g, '-');
  return CLIENT_ADDRESS_HEADERS.has(dashed) || dashed.startsWith('x-forwarded') || ADDRESS_LIKE.test(dashed);
};

/**
 * Headers that would make the legacy application, or a hop in front of it, read the request as
 * another one than the edge routed: another method (Rails' and Express's method override), another
 * path (IIS's and Laminas' rewrite headers), or headers dropped on the way (`Connection` names the
 * ones a proxy removes: the edge's X-Forwarded-For and X-Real-IP). Hop-by-hop headers are the
 * edge's own connection's (RFC 9110, 7.6.1) and never go on; no upgrade is proxied.
 */
const REROUTING_HEADERS = new Set([
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'upgrade',
]);
const reroutes = (name: string) => REROUTING_HEADERS.has(name.replace(/_/g, '-'));

/** How long the legacy application may take to answer before the client gets a 502. */
const LEGACY_TIMEOUT_MS = 30_000;

/**
 * The strangler fig's first step: ficus stands in front of the application it replaces, serves
 * the routes its contexts already own, and proxies everything else to the old application —
 * requests for which ficus has no route (method and path), and those under `routes`, prefixes of
 * routes ficus has but should not serve yet. Moving a route over is deleting its prefix here.
 *
 * The handler proxies every request it is given: `setUpHttpEdge` decides which, once per request
 * (`goesToLegacy`), and sends them a way of their own, past the body parser and through an
 * admission gate of their own. Proxied requests keep their method, path, query, headers and body
 * (streamed through untouched), plus the request id, and X-Forwarded-* and X-Real-IP set by the
 * edge (a client's own, under any name that claims its address, are dropped; Host, Proto and Port
 * are the shop's public address, FICUS_PUBLIC_URL); answers come back with the legacy
 * application's headers, not the edge's security headers. When the legacy application cannot be
 * reached, or takes too long, the client gets a 502 problem.
 */
export function legacyUpstream(legacy: LegacyUpstream, publicUrl?: string): RequestHandler {
  const logger = new Logger('LegacyUpstream');
  const publicAddress = publicUrl === undefined ? undefined : forwardedAddressOf(publicUrl);
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
      // After xfwd wrote its own from the request (the client's Host, http): the shop's address.
      proxyReq: (proxyRequest) => {
        if (!publicAddress) return;
        for (const [name, value] of Object.entries(publicAddress)) proxyRequest.setHeader(name, value);
      },
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
    // The legacy application's answer comes back as it sends it: the headers the edge set so far
    // for its own answers (helmet's, CORS) go, the request id stays.
    for (const name of response.getHeaderNames()) if (name !== 'x-request-id') response.removeHeader(name);
    response.setHeader('X-Ficus-Upstream', 'legacy');
    // The edge trusts no header a client sends about where it connects from (docs/security.md),
    // under any of the names proxies and frameworks read: it sets X-Forwarded-* and X-Real-IP itself.
    // Behind FICUS_TRUSTED_PROXIES, X-Forwarded-For keeps what they vouch for: the client's address
    // and theirs, then the proxy adds the socket's peer.
    const client = clientAddressOf(request);
    const vouched = vouchedAddressesOf(request);
    // What `Connection` names goes with it: a hop-by-hop header under any name the client chose.
    const named = (request.headers.connection ?? '').split(',').map((token) => token.trim().toLowerCase());
    for (const name of Object.keys(request.headers)) {
      if (claimsClientAddress(name) || reroutes(name) || named.includes(name)) delete request.headers[name];
    }
    if (vouched.length > 0) request.headers['x-forwarded-for'] = vouched.join(', ');
    if (client) request.headers['x-real-ip'] = client;
    void proxy(request, response, next);
  };
}

/**
 * X-Forwarded-Host, -Proto and -Port of the shop's public address. Without one (development) the
 * proxy writes the request's own: the Host header, which any client writes, and plain http.
 */
function forwardedAddressOf(publicUrl: string): Record<string, string> {
  const url = new URL(publicUrl);
  const proto = url.protocol.slice(0, -1);
  return {
    'x-forwarded-host': url.host,
    'x-forwarded-proto': proto,
    'x-forwarded-port': url.port || (proto === 'https' ? '443' : '80'),
  };
}

/**
 * Whether the edge hands a request on to the legacy application: a path under one of its routes,
 * or one that ficus does not serve.
 */
export function goesToLegacy(legacy: LegacyUpstream): (request: Request) => boolean {
  return (request) =>
    legacy.routes.some((prefix) => isUnder(request.path, prefix)) || !servesRoute(request.method, request.path);
}

/** Whether `path` is `prefix` or below it (`/reviews` covers `/reviews/7`, not `/reviewsx`). */
function isUnder(path: string, prefix: string): boolean {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === base || path.startsWith(`${base}/`);
}

/** Whether ficus has a route for a method and path: every route of the route table. */
