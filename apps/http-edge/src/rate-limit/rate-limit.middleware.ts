import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { addressCounterOf } from '@infra/security';
import { AccessTokenVerifier } from '../auth/access-token.verifier';
import { problem, sendProblem } from '../problem/problem';
import { publicPathOf } from '../routing/canonical-path';
import { servesPath } from '../routing/served-routes';
import { clientAddressOf } from '../security/trusted-proxies';
import type { RateLimitRule } from './rate-limit.config';
import { RateLimiter, type RateLimitVerdict } from './rate-limiter';
import { RATE_LIMIT_HEADERS } from './rate-limit-headers';

/**
 * The public liveness answer (GET or HEAD, that path exactly), whatever a client did before: load
 * balancers depend on it. Readiness and metrics are not on the public port at all (the operations
 * port serves them, unlimited).
 */
const NEVER_LIMITED = '/health';

/**
 * Rate limiting at the edge: each client (the token's subject when it carries a valid one, else
 * its address: an IPv6 one by its /56, see `addressCounterOf`) gets a counter per rule and
 * route. Past the limit it gets 429 problem+json with Retry-After; every counted answer carries
 * the RateLimit headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers), so a
 * well-behaved client can slow down before that.
 * This is not the admission gate: that one sheds load for everybody (503), this one stops one
 * client taking more than its share (429).
 */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    // Canonical (canonicalPaths ran first), so another spelling of a route is this route or a 404.
    const path = publicPathOf(request);
    // HEAD is served by the GET route: one counter for both.
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    if (!this.limiter.settings.enabled || (method === 'GET' && path === NEVER_LIMITED)) {
      next();
      return;
    }
    const rule = this.limiter.ruleFor(method, path);
    const verdict = await this.limiter.check(
      rule,
      routeOf(method, path, rule.name),
      await this.clientOf(request, rule),
    );
    if (!verdict) {
      next();
      return;
    }
    setRateLimitHeaders(response, verdict);
    if (verdict.allowed) {
      next();
      return;
    }
    const detail =
      `more than ${verdict.rule.limit} requests in ${verdict.rule.windowSeconds} s; retry in ` +
      `${verdict.resetSeconds} s`;
    const body = problem(429, 'rate-limited', detail, { instance: path, retryAfterSeconds: verdict.resetSeconds });
    response.setHeader('Retry-After', String(verdict.resetSeconds));
    sendProblem(response, body);
  }

  /** A token that does not verify counts as no token: forging one must not buy a fresh counter. */
  private async clientOf(request: Request, rule: RateLimitRule): Promise<string> {
    if (rule.countsBy !== 'address' && request.headers.authorization) {
      const caller = await this.verifier.verify(request.headers.authorization).catch(() => undefined);
      if (caller) return `sub:${caller.subject}`;
    }
    return `ip:${addressCounterOf(clientAddressOf(request))}`;
  }
}

/**
 * The route a counter belongs to. The strict rules count each of their routes apart
 * (`POST /identity/login`); the default rule counts a group of routes (`GET /orders` covers
 * `/orders/:id/…`), so that ids in paths cannot mint counters. Nor can paths the edge does not
 * serve: all of them are one counter, `(no route)`, whatever their spelling. GraphQL is one
 * counter whatever the method.
 */
function routeOf(method: string, path: string, rule: string): string {
  if (!servesPath(path)) return `${method} (no route)`;
  // A query by GET and one by POST ask for the same: one counter, not a share for each method.
  if (path === '/graphql') return 'GraphQL /graphql';
  const segments = path.split('/').filter(Boolean);
  const kept = rule === 'default' ? segments.slice(0, 1) : segments.slice(0, 2);
  return `${method} /${kept.join('/')}`.slice(0, 120);
}

function setRateLimitHeaders(response: Response, verdict: RateLimitVerdict): void {
  const [limit, remaining, reset, policy] = RATE_LIMIT_HEADERS;
  response.setHeader(limit, String(verdict.rule.limit));
  response.setHeader(remaining, String(verdict.remaining));
  response.setHeader(reset, String(verdict.resetSeconds));
  response.setHeader(policy, `${verdict.rule.limit};w=${verdict.rule.windowSeconds}`);
}
