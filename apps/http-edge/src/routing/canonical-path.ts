import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { problem, sendProblem } from '../problem/problem';

/**
 * One spelling of every path. The router, the rate limits, the metrics and the logs all see the
 * path this gives a request, so no other spelling of it (`/orders/`, `//orders`, `/%6Frders`) is
 * served under a counter of its own. What it does, after RFC 3986 §6.2.2:
 *
 * - percent-encoding is decoded and written again one way (`%6F` is `o`, `%c3%a9` is `%C3%A9`);
 * - empty segments and a trailing slash go (`//orders/` is `/orders`);
 * - a segment that is `.` or `..`, decodes to `/` or `\`, holds a control character (NUL
 *   included) or is not UTF-8 is refused: 400 `malformed-path`, before anything else runs.
 *
 * Letter case is kept: the edge routes case-sensitively (set in `setUpHttpEdge`), so `/Orders` is
 * a 404, not `/orders` under another counter. The query string is checked alike (each name and
 * value must decode to UTF-8 without control characters), but left as sent for the query parser.
 *
 * The Host header must name a host a URL can hold (a name, an IPv4 or a bracketed IPv6 address)
 * with an optional port, or be absent: 400 `malformed-host` otherwise. Node asks only that it be
 * there, and a library that builds the request's URL from it (GraphQL Yoga) fails on
 * `shop:99999`, `a b` or `foo.123` (a last label of digits reads as an IPv4 address).
 */
export function canonicalPaths(): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const refuse = (code: string, detail: string) => sendProblem(response, problem(400, code, detail));
    if (!wellFormedHost(request.headers.host)) {
      refuse('malformed-host', 'the Host header is not a host name or address with an optional port');
      return;
    }
    const target = requestTarget(request.url);
    const path = target === undefined ? undefined : canonicalPath(target.path);
    if (path === undefined || !target || !wellFormedQuery(target.query)) {
      refuse('malformed-path', 'the request path or query string is not well formed');
      return;
    }
    const url = target.query === '' ? path : `${path}?${target.query}`;
    request.url = url;
    request.originalUrl = url;
    next();
  };
}

/**
 * The most `name=value` pairs a query string of ficus's own routes may hold; none reads more than
 * a few. Express's parser keeps the first 1,000 and drops the rest without a word, where a reader
 * of the raw URL (GraphQL Yoga) takes them all: the two would read one request two ways.
 */
export const MAX_QUERY_PAIRS = 100;

/**
 * Refuses a query string of more than MAX_QUERY_PAIRS pairs: 400 `too-many-parameters`. For
 * ficus's own routes only: what goes to a legacy application is its business, passed on as sent.
 */
export function boundedQueryStrings(): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const mark = request.url.indexOf('?');
    let pairs = 0;
    if (mark >= 0) for (const pair of request.url.slice(mark + 1).split('&')) if (pair !== '') pairs += 1;
    if (pairs <= MAX_QUERY_PAIRS) {
      next();
      return;
    }
    const detail = `a query string holds at most ${MAX_QUERY_PAIRS} parameters`;
    const body = problem(400, 'too-many-parameters', detail, { instance: publicPathOf(request) });
    sendProblem(response, body);
  };
}

/** `name`, `name:port`, `1.2.3.4:port`, `[::1]:port` (port 0–65535), or no Host header at all. */
const HOST = /^(?:[a-z\d._~-]+|\[[\da-f:.]+\])(?::(\d{1,5}))?$/i;

function wellFormedHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return true;
  const match = HOST.exec(host);
  // The pattern's names include what no URL holds (`foo.123`, `1.2.3.256`): the URL parser decides.
  return match !== null && (match[1] === undefined || Number(match[1]) <= 65_535) && URL.canParse(`http://${host}/`);
}

/** The path of a request as a problem's `instance` or a log shows it: never its query string. */
export function publicPathOf(request: Request): string {
  return (request.originalUrl ?? request.url).split('?', 1)[0];
}

/** Origin form (`/a?b`) or absolute form (`http://host/a?b`, RFC 9112 §3.2.2); nothing else. */
function requestTarget(url: string): { path: string; query: string } | undefined {
  let target = url;
  if (!target.startsWith('/')) {
    const scheme = /^https?:\/\/[^/?#]*/i.exec(target);
    if (!scheme) return undefined;
    target = target.slice(scheme[0].length) || '/';
    if (!target.startsWith('/')) target = `/${target}`;
  }
  if (target.includes('#')) return undefined;
  const mark = target.indexOf('?');
  return mark < 0 ? { path: target, query: '' } : { path: target.slice(0, mark), query: target.slice(mark + 1) };
}

// C0 controls, DEL and C1 controls: never part of a path or a query value a shop accepts.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The canonical spelling of a path, or undefined when it has none (see `canonicalPaths`). */
export function canonicalPath(path: string): string | undefined {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    const segment = decoded(raw);
    if (
      segment === undefined ||
      segment === '.' ||
      segment === '..' ||
      /[/\\]/.test(segment) ||
      CONTROL.test(segment)
    ) {
      return undefined;
    }
    segments.push(encodeURIComponent(segment));
  }
  return `/${segments.join('/')}`;
}

function wellFormedQuery(query: string): boolean {
  if (query === '') return true;
  return query.split('&').every((pair) => {
    const text = decoded(pair.replaceAll('+', ' '));
    return text !== undefined && !CONTROL.test(text);
  });
}

/** decodeURIComponent, or undefined for a bad escape or bytes that are not UTF-8 (lone surrogates included). */
function decoded(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
