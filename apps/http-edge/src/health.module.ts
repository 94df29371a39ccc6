import { Controller, Get, Module, Res } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { Response } from 'express';
import { ProcessHealth } from './operations/process-health';
import { problem, ProblemError } from './problem/problem';
import { ProblemFilter } from './problem/problem.filter';

/** Readiness, liveness and metrics of the process, for whoever serves them (ProcessHealth). */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  providers: [ProcessHealth],
  exports: [ProcessHealth],
})
export class ProcessHealthModule {}

/**
 * The one HTTP port of a process that serves no public API (a split service): it is its
 * operations port, so /health, /ready, /metrics and /traces/<trace id> are its routes.
 */
@Controller()
export class OperationsRoutesController {
  constructor(private readonly health: ProcessHealth) {}

  @Get(['health', 'ready', 'metrics', 'traces/:traceId'])
  async answer(@Res() response: Response): Promise<void> {
    const answer = await this.health.answer(response.req.path);
    if (!answer) {
      throw new ProblemError(
        problem(404, 'route-not-found', `no route ${response.req.path}: a trace id is 32 hex digits`),
      );
    }
    response.status(answer.status).type(answer.contentType).setHeader('Cache-Control', 'no-store');
    response.send(answer.body);
  }
}

/** The public API's liveness answer: the process answers, and nothing more (the rest is on the operations port). */
@Controller()
export class LivenessController {
  constructor(private readonly health: ProcessHealth) {}

  @Get('health')
  live() {
    return this.health.live();
  }
}

/** /health, /ready and /metrics alone, for a service process that hosts modules but not the public API. */
@Module({
  imports: [ProcessHealthModule],
  controllers: [OperationsRoutesController],
  providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
})
export class HealthModule {}
