import { Controller, Get, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { notFound } from '@contracts/kernel';
import { IDENTITY, type IdentityApi } from '@contracts/identity';
import { ORDERING, type OrderingApi } from '@contracts/ordering';
import { ContextRegistry } from '@infra/runtime';
import { AccessTokenVerifier } from '../auth/access-token.verifier';
import { AuthGuard, RequireRoles, type AuthenticatedRequest } from '../auth/auth.guard';
import { RequestContexts } from '../request-context';
import { parseOr } from '../validation';

export const ReplayParams = z.object({ context: z.string().regex(/^[a-z]+$/), id: z.string().regex(/^\d{1,18}$/) });

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
