import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { GraphQLError } from 'graphql';
import { defineSettings, wholeNumber } from '@infra/config';
import { graphqlStreamsOpen, graphqlStreamsRefused } from '@infra/observability';
import { problem, sendProblem } from '../problem/problem';
import { publicPathOf } from '../routing/canonical-path';

/** How many GraphQL streams (subscriptions over server-sent events) an edge holds open, and for how long. */
export const StreamSettings = defineSettings(
  'http: GraphQL streams',
  {
    /** Streams this process holds open at once; past it a new one is shed with 503 (0: none served). */
    FICUS_GRAPHQL_STREAMS: wholeNumber({ min: 0, max: 100_000, default: 256, unit: 'streams' }),
    /** Streams one signed-in caller holds at once (on one edge process); past it 429. */
    FICUS_GRAPHQL_STREAMS_PER_CALLER: wholeNumber({ min: 1, max: 1_000, default: 4, unit: 'streams' }),
    /** The longest a stream lives (an access token's expiry ends it sooner). */
    FICUS_GRAPHQL_STREAM_MAX_MS: wholeNumber({ min: 1_000, max: 86_400_000, default: 900_000, unit: 'milliseconds' }),
  },
  (values) => ({
    maxOpen: values.FICUS_GRAPHQL_STREAMS,
    perCaller: values.FICUS_GRAPHQL_STREAMS_PER_CALLER,
    maxLifetimeMs: values.FICUS_GRAPHQL_STREAM_MAX_MS,
  }),
);
export type StreamLimits = ReturnType<typeof StreamSettings.read>;

/** How long a client refused a stream (503) is asked to wait before it tries again. */
export const STREAM_RETRY_AFTER_SECONDS = 5;

interface AskedStream {
  readonly signal: AbortSignal;
  readonly opened: number;
  readonly abort: AbortController;
}
type StreamRequest = Request & { ficusStream?: AskedStream };

/** Why a stream was refused when its caller claimed it: this process holds all it may, or this caller does. */
export type StreamRefusal = 'shutting-down' | 'overloaded' | 'too-many-streams';

/** The last event of every stream open when the process stops: the client should subscribe again elsewhere. */
const SHUTTING_DOWN = () =>
  new GraphQLError('this server is stopping; subscribe again', {
    extensions: { code: 'shutting-down', status: 503 },
  });

/**
 * A request that asks to be answered as a stream: `/graphql` (in its one spelling, after
 * `canonicalPaths`) asking for server-sent events. Held open for minutes, it would keep one of the
 * admission gate's slots (sized for requests of milliseconds) for all that time: so streams have a
 * budget of their own, here, and the gate lets them by. Only a subscription may use it: the
 * controller refuses any other operation asked for as a stream, and the server any subscription
 * not admitted as one.
 */
export function asksForStream(request: Request): boolean {
  return request.path === '/graphql' && /text\/event-stream/i.test(String(request.headers.accept ?? ''));
}

/** A request that asked for a stream: its signal (aborts when its client leaves, or the process stops), its start. */
export function streamOf(request: Request): Pick<AskedStream, 'signal' | 'opened'> | undefined {
  return (request as StreamRequest).ficusStream;
}

/**
 * The streams this process holds: at most `maxOpen` at once, at most `perCaller` per caller, each
 * ended when its client leaves and, with a `shutting-down` event, when the process stops. A stream
 * holds its place from when its caller, verified, claims it (`claim`), not from when it asked: a
 * request that never shows a valid token holds none, and one whose body is still arriving has not
 * asked yet (the edge reads bodies first). Streams asked for and not claimed yet are bounded apart
 * (`asking`). When every place is taken, or as many are being asked for, asking is refused at once
 * (503), before the query is parsed.
 */
@Injectable()
export class OpenStreams implements OnModuleDestroy {
  private readonly open = new Set<AbortController>();
  /**
   * Streams asked for, their callers not verified yet: at most as many as may be open. They hold
   * no place of a verified caller's, and are bounded all the same, as the admission gate bounds
   * every other request.
   */
  private readonly asking = new Set<AbortController>();
  private readonly byCaller = new Map<string, number>();
  /** Set as the process stops: a stream admitted now would hold the HTTP server's close up. */
  private stopping = false;

  constructor(@Inject(StreamSettings.token) readonly limits: StreamLimits) {}

  get count(): number {
    return this.open.size;
  }

  /**
   * The edge's middleware, after the body and before the admission gate: admits streams on this
   * budget instead of the gate's.
   */
  admission(): RequestHandler {
    return (request: Request, response: Response, next: NextFunction) => {
      if (!asksForStream(request)) {
        next();
        return;
      }
      if (this.stopping || this.open.size >= this.limits.maxOpen || this.asking.size >= this.limits.maxOpen) {
        graphqlStreamsRefused.inc({ reason: 'process' });
        const [code, detail] = this.stopping
          ? ['shutting-down', 'this server is stopping; subscribe again']
          : ['overloaded', 'this server holds all the streams it can; retry shortly'];
        const body = problem(503, code, detail, { instance: publicPathOf(request) });
        // Streams last minutes: a refused client retrying at once would only be refused again.
        response.setHeader('Retry-After', String(STREAM_RETRY_AFTER_SECONDS));
        sendProblem(response, body);
        return;
      }
      const abort = new AbortController();
      this.asking.add(abort);
      response.once('close', () => {
        this.asking.delete(abort);
        if (this.open.delete(abort)) graphqlStreamsOpen.set(this.open.size);
        abort.abort();
      });
      (request as StreamRequest).ficusStream = { signal: abort.signal, opened: Date.now(), abort };
      next();
    };
  }

  /**
   * Takes a place for the stream `request` asked for, and one of its verified caller's, until the
   * stream's signal aborts (its client left, or the process is stopping); or says why not. A
   * stream whose client left before it got here takes nothing (it ends at once).
   */
  claim(subject: string, request: Request): StreamRefusal | undefined {
    const stream = (request as StreamRequest).ficusStream;
    if (!stream) throw new Error('claim: the request did not ask for a stream');
    this.asking.delete(stream.abort);
    if (stream.signal.aborted) return undefined;
    if (this.stopping || this.open.size >= this.limits.maxOpen) {
      graphqlStreamsRefused.inc({ reason: 'process' });
      return this.stopping ? 'shutting-down' : 'overloaded';
    }
    const held = this.byCaller.get(subject) ?? 0;
    if (held >= this.limits.perCaller) {
      graphqlStreamsRefused.inc({ reason: 'caller' });
      return 'too-many-streams';
    }
    this.open.add(stream.abort);
    graphqlStreamsOpen.set(this.open.size);
    this.byCaller.set(subject, held + 1);
    stream.signal.addEventListener(
      'abort',
      () => {
        const left = (this.byCaller.get(subject) ?? 1) - 1;
        if (left > 0) this.byCaller.set(subject, left);
        else this.byCaller.delete(subject);
      },
      { once: true },
    );
    return undefined;
  }

  /** Before the HTTP server closes (Nest destroys modules first): streams end, saying why; no new one opens. */
  onModuleDestroy(): void {
    this.stopping = true;
    for (const stream of this.open) stream.abort(SHUTTING_DOWN());
  }
}
