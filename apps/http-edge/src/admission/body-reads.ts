import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { httpBodiesRefused } from '@infra/observability';
import { addressCounterOf } from '@infra/security';
import { problem, sendProblem } from '../problem/problem';
import { publicPathOf } from '../routing/canonical-path';
import { clientAddressOf } from '../security/trusted-proxies';
import { shedOverloaded } from './admission-gate';

export interface BodyReadLimits {
  /** Request bodies being read at once, in the process. */
  readonly maxReading: number;
  /** The same, for one client (an address; an IPv6 client by its /56, as every limit counts it). */
  readonly maxReadingPerClient: number;
}

/**
 * The edge's JSON body parser (Express's), with the bodies it reads at once bounded. The edge reads
 * a body before the request takes a slot of the admission gate, so that a client sending its body
 * slowly holds no slot (ADR 0019 addendum); each body being read is held in memory as it arrives,
 * up to `limit`, for up to the server's requestTimeout. Without a bound, clients dripping bodies
 * over many connections could hold as much memory as they have connections. A request whose body
 * the parser reads (one of `types`) takes a place from its first byte until its body is in, has
 * failed, or its request is gone; past `maxReadingPerClient` of one client's it is answered 429
 * `too-many-bodies` before its body is read, past `maxReading` in all 503, as the gate sheds.
 * Other requests pass by.
 */
export function boundedJsonBodies(
  limits: BodyReadLimits,
  parser: { readonly limit: string; readonly types: readonly string[] },
): RequestHandler {
  const types = [...parser.types];
  const read = json({ limit: parser.limit, strict: true, type: types });
  let reading = 0;
  const byClient = new Map<string, number>();

  return (request: Request, response: Response, next: NextFunction) => {
    // Express's `is`, as the parser decides: false for a request without a body too.
    if (!request.is(types)) {
      read(request, response, next);
      return;
    }
    const client = addressCounterOf(clientAddressOf(request));
    const ofClient = byClient.get(client) ?? 0;
    if (ofClient >= limits.maxReadingPerClient) {
      httpBodiesRefused.inc();
      const detail = `more than ${limits.maxReadingPerClient} of your request bodies are arriving at once`;
      const body = problem(429, 'too-many-bodies', detail, { instance: publicPathOf(request), retryAfterSeconds: 1 });
      response.setHeader('Retry-After', '1');
      sendProblem(response, body);
      return;
    }
    if (reading >= limits.maxReading) {
      shedOverloaded(request, response);
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
