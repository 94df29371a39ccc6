import { All, Controller, Get, Module, Res } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { Response } from 'express';
import { IDENTITY, IdentityContract } from '@contracts/identity';
import { ContractBus } from '@infra/messaging';
import { settingsProviders } from '@infra/runtime';
import { AccessTokenVerifier } from './auth/access-token.verifier';
import { RequestSettings, VerifierClaimsSettings } from './http-settings';
import { DeadLetterRoutes } from './operations/dead-letter-routes';
import { ProcessHealth, type OperationsAnswer } from './operations/process-health';
import { RequestContexts } from './request-context';
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
 * operations port, so /health, /ready, /metrics, /traces/<trace id> and the admins' /dead-letters
 * are its routes.
 */
@Controller()
export class OperationsRoutesController {
  constructor(
    private readonly health: ProcessHealth,
    private readonly deadLetters: DeadLetterRoutes,
  ) {}

  @All(['dead-letters', 'dead-letters/*path'])
  async deadLetter(@Res() response: Response): Promise<void> {
    const { req } = response;
    const answer = await this.deadLetters.answer(req.method, req.path, req.headers.authorization);
    if (!answer) throw new ProblemError(problem(404, 'route-not-found', `no route ${req.path}`));
    send(response, answer);
  }

  @Get(['health', 'ready', 'metrics', 'traces/:traceId'])
  async answer(@Res() response: Response): Promise<void> {
    const answer = await this.health.answer(response.req.path);
    if (!answer) {
      throw new ProblemError(
        problem(404, 'route-not-found', `no route ${response.req.path}: a trace id is 32 hex digits`),
      );
    }
    send(response, answer);
  }
}

function send(response: Response, answer: OperationsAnswer): void {
  response.status(answer.status).type(answer.contentType).setHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(answer.headers ?? {})) response.setHeader(name, value);
  response.send(answer.body);
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

/** The settings HealthModule reads (an admin's token is checked with the edge's claims): a process must read them. */
export const HEALTH_SETTINGS = [RequestSettings, VerifierClaimsSettings];

/**
 * /health, /ready, /metrics, /traces and /dead-letters alone, for a service process that hosts
 * modules but not the public API. The admins' tokens are verified as the edge verifies them,
 * against identity's keys fetched through the identity contract (open to every service), and the
 * same verifier checks the end user's token relayed with a gRPC call (run-target.ts).
 */
@Module({
  imports: [ProcessHealthModule],
  controllers: [OperationsRoutesController],
  providers: [
    { provide: APP_FILTER, useClass: ProblemFilter },
    ...settingsProviders(HEALTH_SETTINGS),
    { provide: IDENTITY, useFactory: (bus: ContractBus) => bus.client(IdentityContract), inject: [ContractBus] },
    RequestContexts,
    AccessTokenVerifier,
    DeadLetterRoutes,
  ],
})
export class HealthModule {}
