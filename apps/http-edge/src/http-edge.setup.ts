import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import express, {
  Router,
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import helmet from 'helmet';
import { Configuration } from '@infra/config';
import type { LegacyUpstream } from '@infra/topology';
import { admissionGate, type AdmissionLimits } from './admission/admission-gate';
import { boundedJsonBodies } from './admission/body-reads';
import { OpenStreams, StreamSettings } from './admission/stream-admission';
import { requestIdOf } from './request-context';
import { boundedQueryStrings, canonicalPaths } from './routing/canonical-path';
import { goesToLegacy, legacyUpstream } from './routing/legacy-upstream';
import { HttpSettings, RequestSettings } from './http-settings';
import { applyCorsAllowList } from './security/cors-allow-list';
import { trustProxies } from './security/trusted-proxies';
import { httpTelemetry } from './telemetry/http-telemetry';
import { wellFormedBodies } from './validation';

export const BODY_LIMIT = '64kb';

/**
 * The Express application an edge is made on: routes match case-sensitively, so `/Orders` is no
 * route rather than `/orders` under another spelling (see `canonicalPaths`). Express reads the
 * setting once, when it makes its router, which Nest's adapter does as it is constructed: so it
 * is set here, before, and `setUpHttpEdge` refuses an app made otherwise.
 */
export function httpEdgeAdapter(): ExpressAdapter {
  const app: Express = express();
  app.set('case sensitive routing', true);
  return new ExpressAdapter(app);
}

/**
 * What every HTTP edge sets up before it listens, in this order: the request id echoed back,
 * security headers (helmet) and the CORS allow-list — first, so that even a shed request's 503
 * carries them and a browser may read its Retry-After —, one spelling of the path (routing is
 * case-sensitive, see `canonicalPaths`), the server span and RED metrics, a strict JSON body
 * parser with a size limit that refuses NUL and broken Unicode in any string, admission control
 * (GraphQL streams' places, then the gate's slots), the legacy upstream when there is one (what ficus
 * does not serve streams on to the old application, its body unread); and no framework banner.
 *
 * The body is read before admission: a client that sends its body slowly holds its own socket
 * (until the server's requestTimeout), never one of the process's places, so a few dozen clients
 * dripping bodies cannot keep every other request out. While the gate is full, a request is shed
 * before its body is read, so that shedding under overload costs no parsing; and the bodies being
 * read at once are bounded, in all and per client (`boundedJsonBodies`; ADR 0019 addendum).
 */
export function setUpHttpEdge(
  app: INestApplication,
  /** `legacy`: the legacy application this edge stands in front of (`legacyUpstreamOf`); unset, none. */
  options: {
    limits?: AdmissionLimits;
    legacy?: LegacyUpstream;
    /** The paths the admission gate always lets through (PUBLIC_PROBES unless said). */
    probes?: readonly string[];
  } = {},
): void {
  const configuration = app.get(Configuration);
  const http = configuration.get(HttpSettings);
  const limits = options.limits ?? {
    ...http.admission,
    abortedHoldMs: configuration.get(RequestSettings).budgetMs,
  };
  const express = app as NestExpressApplication;
  // Nest reads the same field (ExpressAdapter.getRouteMatchingOptions); Express's types omit it.
  const router = (express.getHttpAdapter().getInstance() as Express).router as { caseSensitive?: boolean };
  if (router.caseSensitive !== true) {
    throw new Error(
      'an HTTP edge routes case-sensitively: create its app with NestFactory.create(module, httpEdgeAdapter(), …)',
    );
  }
  express.disable('x-powered-by');
  // Who the client is: the socket's peer, or behind FICUS_TRUSTED_PROXIES the nearest address in
  // X-Forwarded-For that is not one of them (clientAddressOf).
  trustProxies(express, http.trustedProxies);
  express.use((request: Request, response: Response, next: NextFunction) => {
    response.setHeader('X-Request-Id', requestIdOf(request));
    next();
  });
  express.use(helmet()); // security headers (docs/security.md)
  applyCorsAllowList(express, http.corsOrigins); // FICUS_CORS_ORIGINS; none: no CORS headers
  express.use(canonicalPaths());
  express.use(httpTelemetry({ continueClientTraces: http.continueClientTraces }));
  // The body first, before any place is taken (see above), unless the gate is full already.
  const gate = admissionGate(limits, options.probes);
  const ficus: RequestHandler[] = [
    boundedQueryStrings(),
    gate.shedWhileFull,
    boundedJsonBodies(http.bodyReads, { limit: BODY_LIMIT, types: ['application/json', 'application/*+json'] }),
    wellFormedBodies(),
  ];
  // GraphQL streams: a budget of their own, not the gate's, in a process that serves the shop's API
  // (an edge reads their settings; NestFactory's app aborts the process on an unknown provider).
  if (configuration.has(StreamSettings)) ficus.push(app.get(OpenStreams).admission());
  ficus.push(gate.admit);
  const { legacy } = options;
  if (!legacy) {
    for (const handler of ficus) express.use(handler);
    return;
  }
  // What goes to the legacy application is decided once, and takes another way: its body streams
  // on unread, and it takes a slot of a gate of its own, so a client dripping a body to it holds a
  // place there, never one of the slots ficus's routes need. A client that leaves frees its slot at
  // once: the proxy cuts its call to the legacy application, so no work of it remains here (held
  // for the request budget, a client that sent headers and left, a few times a second, kept every
  // slot taken).
  const legacyGate = admissionGate({ ...limits, abortedHoldMs: 0 }, [], { measured: false });
  const toLegacy = goesToLegacy(legacy);
  const ours = Router().use(ficus);
  const theirs = Router().use(legacyGate.shedWhileFull, legacyGate.admit, legacyUpstream(legacy, http.publicUrl));
  express.use((request: Request, response: Response, next: NextFunction) =>
    (toLegacy(request) ? theirs : ours)(request, response, next),
  );
}
