import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CATALOG, type CatalogApi } from '@contracts/catalog';
import { INVENTORY, type InventoryApi } from '@contracts/inventory';
import { ORDERING, type OrderingApi } from '@contracts/ordering';
import { RunModeSettings, type RunMode } from '@infra/config';
import { AccessTokenVerifier } from '../auth/access-token.verifier';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import { RequestContexts } from '../request-context';
import { shopGraphqlServer, type ShopGraphqlServer } from './graphql-server';

/**
 * The shop's GraphQL API. A request may come signed in or not, as REST's: a Bearer token, when
 * given, is verified here (a bad one is a 401 problem, as on every route); what a query may see
 * is then each resolver's business, through the contracts.
 */
@Controller()
export class GraphqlController {
  private readonly server: ShopGraphqlServer;

  constructor(
    @Inject(CATALOG) catalog: CatalogApi,
    @Inject(INVENTORY) inventory: InventoryApi,
    @Inject(ORDERING) ordering: OrderingApi,
    @Inject(RunModeSettings.token) mode: RunMode,
    private readonly verifier: AccessTokenVerifier,
    private readonly contexts: RequestContexts,
  ) {
    this.server = shopGraphqlServer({ catalog, inventory, ordering }, { production: mode.production });
  }

  @Post('graphql')
  @HttpCode(200) // GraphQL over HTTP: 200 with the errors in the body (the server sets it; this documents it)
  post(@Req() request: AuthenticatedRequest, @Res() response: Response): Promise<void> {
    return this.serve(request, response);
  }

  @Get('graphql')
  get(@Req() request: AuthenticatedRequest, @Res() response: Response): Promise<void> {
    return this.serve(request, response);
  }

  private async serve(request: AuthenticatedRequest, response: Response): Promise<void> {
    if (request.headers.authorization !== undefined) {
      request.caller = await this.verifier.verify(request.headers.authorization);
    }
    // The server's request listener: it answers on `response` itself.
    await this.server(request, response, { ctx: this.contexts.of(request) });
  }
}
