import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { problem } from '../problem/problem';
import { DeadLetterRoutes } from './dead-letter-routes';
import { problemAnswer, ProcessHealth, type OperationsAnswer } from './process-health';

/** Where a process serves its operators: /health, /ready, /metrics (not the public API). */
export interface OperationsEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface RunningOperations {
  /** The port it listens on (the one asked for, or the one given for 0). */
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The operations port of a process that serves the public API (issue 15, item 8): /health,
 * /ready and /metrics for probes and scrapers on a listener of their own, which the deployment
 * keeps off the public network (Kubernetes probes it, Prometheus scrapes it, no Service or
 * published port exposes it). GET and HEAD only, but for the admins' dead-letter routes
 * (DeadLetterRoutes, a token checked); anything else is a 404 or 405 problem. A plain
 * Node server: none of the edge's middleware (rate limits, admission, body parsing) applies to it,
 * and it answers while the public port sheds load. A process that serves no public API answers
 * these on its one HTTP port instead (HealthModule).
 */
export async function serveOperations(
  app: INestApplicationContext,
  endpoint: OperationsEndpoint,
): Promise<RunningOperations> {
  const health = app.get(ProcessHealth, { strict: false });
  const deadLetters = app.get(DeadLetterRoutes, { strict: false });
  const logger = new Logger('Operations');
  const answerOf = async (method: string, path: string, authorization?: string): Promise<OperationsAnswer> => {
    // The admins' dead-letter routes first: the one place here that takes a POST (and a token).
    const admins = await deadLetters.answer(method, path, authorization);
    if (admins) return admins;
    if (method !== 'GET' && method !== 'HEAD') {
      const refused = problem(405, 'method-not-allowed', 'the operations port answers GET and HEAD only');
      return { ...problemAnswer(refused), headers: { Allow: 'GET, HEAD' } };
    }
    const answer = await health.answer(path);
    const paths = '/health, /ready, /metrics, /traces/<trace id>, /dead-letters';
    return answer ?? problemAnswer(problem(404, 'route-not-found', `the operations port serves ${paths}`));
  };
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const method = request.method ?? 'GET';
    const send = ({ status, contentType, body, headers }: OperationsAnswer) => {
      response.writeHead(status, {
        ...headers,
        'Content-Type': contentType,
        'Cache-Control': 'no-store',
        'Content-Length': Buffer.byteLength(body),
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    answerOf(method, path, request.headers.authorization).then(send, (error: unknown) => {
      logger.error({ err: error, path }, 'the operations port failed to answer');
      send(problemAnswer(problem(500, 'internal-error', 'the request failed on our side')));
    });
  });
  // A probe or a scrape holds no connection open for long: a slow client cannot pile them up.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint.port, endpoint.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = endpoint.host === '0.0.0.0' || endpoint.host === '::' ? '127.0.0.1' : endpoint.host;
  logger.log(`operations (/health, /ready, /metrics) on ${endpoint.host}:${port}`);
  return {
    port,
    url: `http://${host}:${port}`,
    // A probe or a scrape under way gets its answer; whatever is still open a second later is cut.
    close: () =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), 1_000);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
