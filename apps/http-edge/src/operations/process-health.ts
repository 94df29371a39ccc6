import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { keptSpans, processMetrics, type KeptSpan } from '@infra/observability';
import { ContextRegistry, ProcessReadiness, type DependencyCheck } from '@infra/runtime';
import { problem, type Problem } from '../problem/problem';

/** An answer of the operations port: a status and a body, JSON or the Prometheus text. */
export interface OperationsAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** Headers beside the content type (a 405's Allow). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * What a process tells its operators: alive, ready, and its metrics. Served on the operations
 * port (`serveOperations`), never on the public API, which keeps only a liveness answer
 * (issue 15, item 8: readiness ran its queries for anyone and was exempt from rate limits).
 */
@Injectable()
export class ProcessHealth {
  private readonly logger = new Logger('Readiness');

  constructor(
    private readonly health: HealthCheckService,
    private readonly registry: ContextRegistry,
    private readonly dependencies: ProcessReadiness,
  ) {}

  /** Liveness: the process answers; nothing is asked of its databases or peers. */
  live(): { status: 'ok'; info: { process: { status: 'up' } } } {
    return { status: 'ok', info: { process: { status: 'up' } } };
  }

  /**
   * Readiness: every context in this process reaches its database with its migrations applied,
   * and, in split mode, the broker answers at its configured address. The gRPC peers this process
   * calls are reported too (`peer:<target>`), but a peer that is down does not make this process
   * unready: taking it out of rotation would not bring the peer back, and unready callers would
   * cascade one outage into all of them, while the breakers already answer fast (docs/adr/0020).
   * Not ready is 503 problem+json with every indicator's status, so the operator sees which one
   * failed; why it failed (an error's text, an address) is in the log, never in the answer. Each
   * context's answer is shared for a second (ContextRuntime), so a burst of probes costs the
   * databases one query each, every probe bounded by a statement timeout.
   */
  async ready(): Promise<{ ready: true; result: HealthCheckResult } | { ready: false; problem: Problem }> {
    const dependencies = this.dependencies.all();
    const reportedOnly = new Set(dependencies.filter((d) => !d.gatesReadiness).map((d) => d.name));
    const result = await this.health
      .check([
        ...this.registry.all().map((runtime) => async (): Promise<HealthIndicatorResult> => {
          const report = await runtime.readiness();
          return { [report.context]: { status: report.ready ? 'up' : 'down', detail: report.detail } };
        }),
        ...dependencies.map((dependency) => () => indicatorOf(dependency)),
      ])
      .catch((error: unknown) => {
        if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
        throw error;
      });
    const blocking = Object.keys(result.error ?? {}).filter((name) => !reportedOnly.has(name));
    for (const [name, indicator] of Object.entries(result.error ?? {})) {
      this.logger.warn(
        { indicator: name, detail: (indicator as { detail?: unknown }).detail },
        'readiness indicator down',
      );
    }
    const shown = {
      info: withoutDetails(result.info),
      error: withoutDetails(result.error),
      details: withoutDetails(result.details),
    };
    if (result.status === 'shutting_down' || blocking.length > 0) {
      const what = result.status === 'shutting_down' ? 'shutting down' : blocking.join(', ');
      return { ready: false, problem: problem(503, 'not-ready', `not ready: ${what}`, shown) };
    }
    return { ready: true, result: { ...result, ...shown, status: 'ok' } as HealthCheckResult };
  }

  /** The answers of the operations port, by path; undefined for any other path. */
  async answer(path: string): Promise<OperationsAnswer | undefined> {
    const traceId = TRACE_PATH.exec(path)?.[1];
    if (traceId) return json(200, traceOf(traceId));
    switch (path) {
      case '/health':
        return json(200, this.live());
      case '/ready': {
        const readiness = await this.ready();
        return readiness.ready ? json(200, readiness.result) : problemAnswer(readiness.problem);
      }
      case '/metrics':
        return { status: 200, contentType: processMetrics.contentType, body: await processMetrics.metrics() };
      default:
        return undefined;
    }
  }
}

/** `/traces/<trace id>`: the spans of one trace this process still keeps (W3C trace id, lower-case hex). */
const TRACE_PATH = /^\/traces\/([\da-f]{32})$/;

/**
 * One trace's spans as this process keeps them (FICUS_TRACE_BUFFER), for `ficus console`; `kept`
 * says whether it keeps any, so "none kept here" and "none of this trace left" read differently.
 */
function traceOf(traceId: string): { traceId: string; kept: boolean; spans: KeptSpan[] } {
  const ring = keptSpans();
  return { traceId, kept: ring !== undefined, spans: ring?.trace(traceId) ?? [] };
}

export function json(status: number, body: unknown): OperationsAnswer {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

export function problemAnswer(answer: Problem): OperationsAnswer {
  return {
    status: answer.status,
    contentType: 'application/problem+json; charset=utf-8',
    body: JSON.stringify(answer),
  };
}

/** Indicators with their status (and whether they gate), not why: that is for the log. */
function withoutDetails(
  indicators: Partial<HealthIndicatorResult> | undefined,
): Record<string, { status: string; gatesReadiness?: boolean }> | undefined {
  if (!indicators) return undefined;
  return Object.fromEntries(
    Object.entries(indicators).flatMap(([name, indicator]) => {
      if (!indicator) return [];
      const gatesReadiness = (indicator as { gatesReadiness?: boolean }).gatesReadiness;
      return [
        [
          name,
          gatesReadiness === undefined ? { status: indicator.status } : { status: indicator.status, gatesReadiness },
        ],
      ];
    }),
  );
}

async function indicatorOf(dependency: DependencyCheck): Promise<HealthIndicatorResult> {
  const { up, detail } = await dependency.check();
  return { [dependency.name]: { status: up ? 'up' : 'down', detail, gatesReadiness: dependency.gatesReadiness } };
}
