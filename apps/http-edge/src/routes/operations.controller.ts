import { Controller, Get, Inject, Logger, Param, Post, Req, Res, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { HealthCheck, HealthCheckService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { z } from 'zod';
import { notFound } from '@contracts/kernel';
import { IDENTITY, type IdentityApi } from '@contracts/identity';
import { ORDERING, type OrderingApi } from '@contracts/ordering';
import { processMetrics } from '@infra/observability';
import { ContextRegistry, ProcessReadiness, type DependencyCheck } from '@infra/runtime';
import { AccessTokenVerifier } from '../auth/access-token.verifier';
import { AuthGuard, RequireRoles, type AuthenticatedRequest } from '../auth/auth.guard';
import { problem, ProblemError } from '../problem/problem';
import { RequestContexts } from '../request-context';
import { parseOr } from '../validation';

export const ReplayParams = z.object({ context: z.string().regex(/^[a-z]+$/), id: z.string().regex(/^\d{1,18}$/) });

/** Liveness and readiness: every ficus process serves these, the edge and each service alike. */
@Controller()
export class HealthController {
  private readonly logger = new Logger('Readiness');

  constructor(
    private readonly health: HealthCheckService,
    private readonly registry: ContextRegistry,
    private readonly dependencies: ProcessReadiness,
  ) {}

  /** Liveness: the process answers. */
  @Get('health')
  @HealthCheck()
  live() {
    return this.health.check([async (): Promise<HealthIndicatorResult> => ({ process: { status: 'up', pid: process.pid } })]);
  }

  /**
   * Readiness: every context in this process reaches its database with its migrations applied,
   * and, in split mode, the broker answers at its configured address. The gRPC peers this process
   * calls are reported too (`peer:<target>`), but a peer that is down does not make this process
   * unready: taking it out of rotation would not bring the peer back, and unready callers would
   * cascade one outage into all of them, while the breakers already answer fast (docs/adr/0020).
   * Not ready is 503 problem+json with every indicator's status, so the operator sees which one
   * failed; why it failed (an error's text, an address) is in the log, never in the answer, which
   * anyone can read (issue 15). Each context's answer is shared for a second (ContextRuntime), so
   * a burst of probes costs the databases one query each.
   */
  @Get('ready')
  @HealthCheck()
  async ready(): Promise<HealthCheckResult> {
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
      this.logger.warn({ indicator: name, detail: (indicator as { detail?: unknown }).detail }, 'readiness indicator down');
    }
    const shown = { info: withoutDetails(result.info), error: withoutDetails(result.error), details: withoutDetails(result.details) };
    if (result.status === 'shutting_down' || blocking.length > 0) {
      const what = result.status === 'shutting_down' ? 'shutting down' : blocking.join(', ');
      throw new ProblemError(problem(503, 'not-ready', `not ready: ${what}`, shown));
    }
    return { ...result, ...shown, status: 'ok' } as HealthCheckResult;
  }

  /** Prometheus scrape: process metrics, breaker states, admission control. */
  @Get('metrics')
  async metrics(@Res() response: Response): Promise<void> {
    response.type(processMetrics.contentType).send(await processMetrics.metrics());
  }
}

/** Indicators with their status (and whether they gate), not why: that is for the log. */
function withoutDetails(indicators: Partial<HealthIndicatorResult> | undefined): Record<string, { status: string; gatesReadiness?: boolean }> | undefined {
  if (!indicators) return undefined;
  return Object.fromEntries(
    Object.entries(indicators).flatMap(([name, indicator]) => {
      if (!indicator) return [];
      const gatesReadiness = (indicator as { gatesReadiness?: boolean }).gatesReadiness;
      return [[name, gatesReadiness === undefined ? { status: indicator.status } : { status: indicator.status, gatesReadiness }]];
    }),
  );
}

async function indicatorOf(dependency: DependencyCheck): Promise<HealthIndicatorResult> {
  const { up, detail } = await dependency.check();
  return { [dependency.name]: { status: up ? 'up' : 'down', detail, gatesReadiness: dependency.gatesReadiness } };
}

/**
 * The operator's routes: dead letters of the contexts in this process, the read-model rebuild.
 * (In a split topology the edge hosts no context; dead letters are then read on each service.)
 */
@Controller()
@UseGuards(AuthGuard)
export class OperationsController {
  constructor(
    private readonly registry: ContextRegistry,
    @Inject(ORDERING) private readonly ordering: OrderingApi,
    @Inject(IDENTITY) private readonly identity: IdentityApi,
    private readonly contexts: RequestContexts,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  @Get('admin/dead-letters')
  @RequireRoles('admin')
  async deadLetters() {
    const lists = await Promise.all(this.registry.all().map((runtime) => runtime.deadLetters.list()));
    return { items: lists.flat() };
  }

  @Post('admin/dead-letters/:context/:id/replay')
  @RequireRoles('admin')
  async replay(@Param() params: unknown) {
    const { context, id } = parseOr(ReplayParams, params, 'path');
    const runtime = this.registry.get(context);
    const outcome = runtime ? await runtime.deadLetters.replay(id) : 'not-found';
    if (outcome === 'not-found') {
      throw notFound('dead-letter-not-found', `no dead letter ${id} in ${context}`);
    }
    return { outcome };
  }

  /** A new signing key now (say, after a suspected leak); tokens of the old one verify for the overlap. */
  @Post('admin/keys/rotate')
  @RequireRoles('admin')
  async rotateSigningKey(@Req() request: AuthenticatedRequest) {
    const rotated = await this.identity.rotateSigningKey(this.contexts.of(request), {});
    // This edge knows the new key at once; other replicas learn it from the first token naming it.
    await this.verifier.refreshKeys();
    return rotated;
  }

  @Post('admin/order-history/rebuild')
  @RequireRoles('admin')
  rebuild(@Req() request: AuthenticatedRequest) {
    return this.ordering.rebuildOrderHistory(this.contexts.of(request), {});
  }
}
