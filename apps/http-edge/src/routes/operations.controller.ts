import { Controller, Get, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { HealthCheck, HealthCheckService, type HealthIndicatorResult } from '@nestjs/terminus';
import { z } from 'zod';
import { notFound } from '@contracts/kernel';
import { ORDERING, type OrderingApi } from '@contracts/ordering';
import { processMetrics } from '@infra/observability';
import { ContextRegistry } from '@infra/runtime';
import { AuthGuard, RequireRoles, type AuthenticatedRequest } from '../auth/auth.guard';
import { RequestContexts } from '../request-context';
import { parseOr } from '../validation';

const ReplayParams = z.object({ context: z.string().regex(/^[a-z]+$/), id: z.string().regex(/^\d{1,18}$/) });

/** Liveness and readiness: every ficus process serves these, the edge and each service alike. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly registry: ContextRegistry,
  ) {}

  /** Liveness: the process answers. */
  @Get('health')
  @HealthCheck()
  live() {
    return this.health.check([async (): Promise<HealthIndicatorResult> => ({ process: { status: 'up', pid: process.pid } })]);
  }

  /** Readiness: every context in this process reaches its database with its migrations applied. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(
      this.registry.all().map((runtime) => async (): Promise<HealthIndicatorResult> => {
        const report = await runtime.readiness();
        return { [report.context]: { status: report.ready ? 'up' : 'down', detail: report.detail } };
      }),
    );
  }

  /** Prometheus scrape: process metrics, breaker states, admission control. */
  @Get('metrics')
  async metrics(@Res() response: Response): Promise<void> {
    response.type(processMetrics.contentType).send(await processMetrics.metrics());
  }
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
    private readonly contexts: RequestContexts,
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

  @Post('admin/order-history/rebuild')
  @RequireRoles('admin')
  rebuild(@Req() request: AuthenticatedRequest) {
    return this.ordering.rebuildOrderHistory(this.contexts.of(request), {});
  }
}
