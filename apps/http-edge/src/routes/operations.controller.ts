import { Body, Controller, Get, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { IDENTITY, IdentityContract, type IdentityApi } from '@contracts/identity';
import { DEAD_LETTER_ID } from '@infra/messaging';
import { ORDERING, type OrderingApi } from '@contracts/ordering';
import { AccessTokenVerifier } from '../auth/access-token.verifier';
import { DeadLetterRoutes } from '../operations/dead-letter-routes';
import { AuthGuard, RequireRoles, type AuthenticatedRequest } from '../auth/auth.guard';
import { RequestContexts } from '../request-context';
import { parseOr } from '../validation';
import { problem, ProblemError } from '../problem/problem';

/** Whether the request came with a body, read or not. */
function hasBody(request: AuthenticatedRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || Number(length) > 0;
}

/** The rotation's body: none, `{}`, or `{"retirePrevious": true}`. */
export const RotateBody = z.strictObject(IdentityContract.methods.rotateSigningKey.request.shape);

export const ReplayParams = z.object({ context: z.string().regex(/^[a-z]+$/), id: z.string().regex(DEAD_LETTER_ID) });

/**
 * The operator's routes: dead letters of the contexts in this process, the read-model rebuild.
 * (In a split topology the edge hosts no context; dead letters are then read and replayed on each
 * service's operations port, as `ficus console` does: DeadLetterRoutes.)
 */
@Controller()
@UseGuards(AuthGuard)
export class OperationsController {
  constructor(
    private readonly deadLetters: DeadLetterRoutes,
    @Inject(ORDERING) private readonly ordering: OrderingApi,
    @Inject(IDENTITY) private readonly identity: IdentityApi,
    private readonly contexts: RequestContexts,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  @Get('admin/dead-letters')
  @RequireRoles('admin')
  async list() {
    return this.deadLetters.list();
  }

  @Post('admin/dead-letters/:context/:id/replay')
  @RequireRoles('admin')
  async replay(@Param() params: unknown, @Req() request: AuthenticatedRequest) {
    const { context, id } = parseOr(ReplayParams, params, 'path');
    return { outcome: await this.deadLetters.replay(context, id, request.caller!.subject) };
  }

  /**
   * A new signing key now; tokens of the old one verify for the overlap, or, with
   * `{"retirePrevious": true}` (a leaked key), no longer: every other key retires at once.
   */
  @Post('admin/keys/rotate')
  @RequireRoles('admin')
  async rotateSigningKey(@Req() request: AuthenticatedRequest, @Body() body: unknown) {
    // A body the edge does not read (a form: curl -d without a JSON type) is not an empty one: a
    // retirePrevious in it must not become a plain rotation.
    if (body === undefined && hasBody(request)) {
      throw new ProblemError(problem(415, 'unsupported-media-type', 'send the body as application/json, or send none'));
    }
    const asked = parseOr(RotateBody, body ?? {}, 'body');
    const rotated = await this.identity.rotateSigningKey(this.contexts.of(request), asked);
    // This edge knows the new key at once; other replicas learn it from the first token naming it,
    // and drop retired keys' tokens once their key set is older than its 5 minutes.
    await this.verifier.refreshKeys();
    return rotated;
  }

  @Post('admin/order-history/rebuild')
  @RequireRoles('admin')
  rebuild(@Req() request: AuthenticatedRequest) {
    return this.ordering.rebuildOrderHistory(this.contexts.of(request), {});
  }
}
