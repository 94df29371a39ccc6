import { Injectable, Logger } from '@nestjs/common';
import { ContractError, permissionDenied, type Caller } from '@contracts/kernel';
import { DEAD_LETTER_ID, type DeadLetterView, type ReplayAllOutcome, type ReplayOutcome } from '@infra/messaging';
import { ContextRegistry, type ContextRuntime } from '@infra/runtime';
import { AccessTokenVerifier } from '../auth/access-token.verifier';
import { problem, problemOfContractError, ProblemError } from '../problem/problem';
import { json, problemAnswer, type OperationsAnswer } from './process-health';

/** How many replayed dead letters of each context the list shows beside the waiting ones. */
const RECENTLY_REPLAYED = 20;

type Route =
  | { readonly kind: 'list' }
  | { readonly kind: 'replay'; readonly context: string; readonly id: string }
  | { readonly kind: 'replay-all'; readonly context: string }
  | { readonly kind: 'wrong-method'; readonly allow: string }
  | { readonly kind: 'bad-id' };

/**
 * The dead letters of the contexts this process consumes for, on its operations port, for the
 * shop's admins (`ficus console` relays their access token; it is checked here, as the edge checks
 * it, against identity's keys): `GET /dead-letters` lists them, `POST
 * /dead-letters/<context>/<id>/replay` hands one to its consumer again, `POST
 * /dead-letters/<context>/replay` every one not replayed yet. A replay runs here because the
 * handler does: only the process that consumes a context's events can replay them. Who replayed
 * a letter is kept on it (their token's subject) and logged.
 */
@Injectable()
export class DeadLetterRoutes {
  private readonly logger = new Logger('DeadLetters');
  /** The contexts a "replay all" runs for now: a second one waits for the first's answer (409). */
  private readonly replayingAll = new Set<string>();

  constructor(
    private readonly registry: ContextRegistry,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  /** The answer to `method path`, or undefined when the path is not one of these routes. */
  async answer(method: string, path: string, authorization: string | undefined): Promise<OperationsAnswer | undefined> {
    const route = routeOf(method, path);
    if (!route) return undefined;
    if (route.kind === 'wrong-method') {
      const refused = problemAnswer(problem(405, 'method-not-allowed', `${path} answers ${route.allow} only`));
      return { ...refused, headers: { Allow: route.allow } };
    }
    if (route.kind === 'bad-id') {
      return problemAnswer(problem(400, 'validation-failed', 'a dead letter id is a number, as the list shows it'));
    }
    try {
      const admin = await this.admin(authorization);
      switch (route.kind) {
        case 'list':
          return json(200, await this.list());
        case 'replay':
          return json(200, { outcome: await this.replay(route.context, route.id, admin.subject) });
        case 'replay-all':
          return json(200, { outcomes: await this.replayAll(route.context, admin.subject) });
      }
    } catch (error) {
      if (error instanceof ProblemError) return problemAnswer(error.problem);
      if (error instanceof ContractError) return problemAnswer(problemOfContractError(error));
      throw error;
    }
  }

  /** Hands one dead letter to its consumer again, `by` the admin (a 404 or 409 problem when it cannot). */
  async replay(context: string, id: string, by: string): Promise<ReplayOutcome> {
    const outcome = await this.runtimeOf(context).deadLetters.replay(id, by);
    if (outcome === 'not-found') {
      throw new ProblemError(problem(404, 'dead-letter-not-found', `no dead letter ${id} in ${context}`));
    }
    this.logger.log({ context, id, outcome, by }, 'dead letter replayed');
    if (outcome === 'consumer-not-running') {
      throw new ProblemError(
        problem(
          409,
          'consumer-not-running',
          `the consumer of dead letter ${id} no longer runs in ${context}: nothing here can take it`,
        ),
      );
    }
    return outcome;
  }

  /** Replays every dead letter of `context` not replayed yet, `by` the admin. */
  async replayAll(context: string, by: string): Promise<ReplayAllOutcome> {
    const runtime = this.runtimeOf(context);
    if (this.replayingAll.has(context)) {
      throw new ProblemError(
        problem(409, 'replay-in-progress', `the dead letters of ${context} are being replayed now: read them again`),
      );
    }
    this.replayingAll.add(context);
    try {
      const outcomes = await runtime.deadLetters.replayAll(by);
      this.logger.log({ context, outcomes, by }, 'dead letters replayed');
      return outcomes;
    } finally {
      this.replayingAll.delete(context);
    }
  }

  /** Each consuming context's dead letters waiting for a replay, and the latest replayed. */
  async list(): Promise<{ contexts: string[]; items: DeadLetterView[]; replayed: DeadLetterView[] }> {
    const consuming = this.consuming();
    const [waiting, replayed] = await Promise.all([
      Promise.all(consuming.map((runtime) => runtime.deadLetters.list())),
      Promise.all(consuming.map((runtime) => runtime.deadLetters.recentlyReplayed(RECENTLY_REPLAYED))),
    ]);
    return { contexts: consuming.map((runtime) => runtime.context), items: waiting.flat(), replayed: replayed.flat() };
  }

  /** The contexts whose events this process consumes (an extracted copy that serves calls only has no handlers). */
  private consuming(): ContextRuntime[] {
    return this.registry.all().filter((runtime) => !runtime.servesCallsOnly);
  }

  private runtimeOf(context: string): ContextRuntime {
    const runtime = this.consuming().find((candidate) => candidate.context === context);
    if (!runtime) {
      throw new ProblemError(
        problem(404, 'context-not-here', `${context} does not consume events in this process: replay it where it does`),
      );
    }
    return runtime;
  }

  private async admin(authorization: string | undefined): Promise<Caller> {
    const caller = await this.verifier.verify(authorization);
    if (!caller.roles.includes('admin')) throw permissionDenied('forbidden', 'dead letters are for the shop’s admins');
    return caller;
  }
}

const REPLAY = /^\/dead-letters\/([a-z][a-z0-9]{0,29})\/(?:([^/]+)\/)?replay$/;

/** Which of these routes `method path` is, if any (HEAD reads as GET). */
function routeOf(method: string, path: string): Route | undefined {
  if (path === '/dead-letters') {
    return method === 'GET' || method === 'HEAD' ? { kind: 'list' } : { kind: 'wrong-method', allow: 'GET, HEAD' };
  }
  const replay = REPLAY.exec(path);
  if (!replay) return undefined;
  if (method !== 'POST') return { kind: 'wrong-method', allow: 'POST' };
  const [, context, id] = replay;
  if (id !== undefined && !DEAD_LETTER_ID.test(id)) return { kind: 'bad-id' };
  return id === undefined ? { kind: 'replay-all', context } : { kind: 'replay', context, id };
}
