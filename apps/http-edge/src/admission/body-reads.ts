import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { httpRequestsShed } from '@infra/observability';
import { addressCounterOf } from '@infra/security';
import { problem } from '../problem/problem';
import { publicPathOf } from '../routing/canonical-path';
import { clientAddressOf } from '../security/trusted-proxies';

export interface BodyReadLimits {
  /** Request bodies being read at once, in the process. */
  readonly maxReading: number;
  /** The same, for one client (an address; an IPv6 client by its /56, as every limit counts it). */
  readonly maxReadingPerClient: number;
}

/**
 * Bounds the request bodies `read` (the edge's body parser) reads at once. The edge reads a body
 * before the request takes a slot of the admission gate, so that a client sending its body slowly
 * holds no slot (ADR 0019 addendum); each body being read is held in memory as it arrives, up to
 * the body limit, for up to the server's requestTimeout. Without a bound, clients dripping bodies
 * over many connections could hold as much memory as they have connections. A request with a body
 * of a type `read` takes (`types`) takes a place from its first byte until its body is in, or has
 * failed; past `maxReadingPerClient` of one client's it is answered 429 before its body is read,
 * past `maxReading` in all 503, as the gate sheds. Other requests pass by.
 */
export function boundedBodyReads(
  limits: BodyReadLimits,
  types: readonly string[],
  read: RequestHandler,
): RequestHandler {
  let reading = 0;
  const byClient = new Map<string, number>();
  const refuse = (request: Request, response: Response, status: 429 | 503) => {
    const body =
      status === 503
        ? problem(503, 'overloaded', 'the service is at capacity; retry shortly', { instance: publicPathOf(request) })
        : problem(
            429,
            'too-many-bodies',
            `more than ${limits.maxReadingPerClient} of your request bodies are arriving at once`,
            {
              instance: publicPathOf(request),
              retryAfterSeconds: 1,
            },
          );
    if (status === 503) httpRequestsShed.inc();
    response.setHeader('Retry-After', '1');
    response.status(status).type('application/problem+json').send(JSON.stringify(body));
  };

  return (request: Request, response: Response, next: NextFunction) => {
    // Express's `is`: false for a request without a body, as for one `read` would not read.
    if (!request.is([...types])) {
      read(request, response, next);
      return;
    }
    const client = addressCounterOf(clientAddressOf(request));
    const ofClient = byClient.get(client) ?? 0;
    if (ofClient >= limits.maxReadingPerClient) {
      refuse(request, response, 429);
      return;
    }
    if (reading >= limits.maxReading) {
      refuse(request, response, 503);
      return;
    }
    reading += 1;
    byClient.set(client, ofClient + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      reading -= 1;
      const left = (byClient.get(client) ?? 1) - 1;
      if (left > 0) byClient.set(client, left);
      else byClient.delete(client);
    };
    // The parser goes on once the body is in or has failed (too large, malformed, the client gone).
    // A request destroyed first frees the place all the same: a compressed body is read from its
    // inflater, which a lost socket leaves neither ended nor failed, and the response of a request
    // pipelined behind another never has a socket whose close it would see.
    request.once('close', release);
    response.once('close', release);
    read(request, response, (error?: unknown) => {
      release();
      next(error);
    });
  };
}
