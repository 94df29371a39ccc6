import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ContractError } from '@contracts/kernel';
import { publicPathOf } from '../routing/canonical-path';
import { problem, problemOfContractError, ProblemError, sendProblem, type Problem } from './problem';

/**
 * Every error leaves the edge as application/problem+json: typed contract errors with their
 * status and code, Nest's own HTTP errors (unknown route, wrong method) likewise, and anything
 * unexpected as a bare 500 whose details stay in the log, never a stack trace in a body.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const body = this.toProblem(error, request);
    // The path only: a query string may hold what must not be echoed (`?access_token=`).
    body.instance = publicPathOf(request);
    const requestId = request.headers['x-request-id'];
    if (body.status >= 500) {
      this.logger.error({ err: error, requestId, path: body.instance }, 'request failed');
    }
    if (body.status === 503 || body.status === 429) {
      response.setHeader('Retry-After', String(body.retryAfterSeconds ?? 1));
    }
    sendProblem(response, body);
  }

  private toProblem(error: unknown, request: Request): Problem {
    if (error instanceof ProblemError) return { ...error.problem };
    if (error instanceof ContractError) return problemOfContractError(error);
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status === 404) return problem(404, 'route-not-found', `no route ${request.method} ${request.path}`);
      // Nest turns the body parser's SyntaxError (and a URL's bad %-encoding) into a bare 400.
      if (status === 400) {
        return /JSON/.test(error.message)
          ? problem(400, 'malformed-json', 'the request body is not valid JSON')
          : problem(400, 'malformed-request', 'the request could not be parsed');
      }
      return problem(status, `http-${status}`, error.message);
    }
    const bodyError = error as { type?: string; status?: unknown; expose?: unknown };
    switch (bodyError.type) {
      case 'entity.parse.failed':
        return problem(400, 'malformed-json', 'the request body is not valid JSON');
      case 'entity.too.large':
        return problem(413, 'body-too-large', 'the request body is larger than the limit');
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return problem(415, 'unsupported-encoding', 'the request body encoding is not supported');
      default:
        // The body parser's other refusals (a gzip or br body that does not inflate, a body cut
        // short) are the client's: http-errors marks them `expose` with their 4xx status.
        if (
          bodyError.expose === true &&
          typeof bodyError.status === 'number' &&
          bodyError.status >= 400 &&
          bodyError.status < 500
        ) {
          return problem(bodyError.status, 'malformed-request', 'the request could not be read');
        }
        return problem(500, 'internal-error', 'the request failed on our side');
    }
  }
}
