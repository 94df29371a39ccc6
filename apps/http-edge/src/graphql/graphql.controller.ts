import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Response } from 'express';
import { Kind, OperationTypeNode, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { decodeJwt } from 'jose';
import { CATALOG, type CatalogApi } from '@contracts/catalog';
import { INVENTORY, type InventoryApi } from '@contracts/inventory';
import { NOTIFICATIONS, type NotificationsApi } from '@contracts/notifications';
import { ORDERING, type OrderingApi } from '@contracts/ordering';
import { PAYMENTS, type PaymentsApi } from '@contracts/payments';
import { SHIPPING, type ShippingApi } from '@contracts/shipping';
import type { Caller, Contract, SubgraphApi } from '@contracts/kernel';
import { ALL_SUBGRAPHS } from '@contracts/contexts';
import type { SubgraphContext } from '@infra/graphql';
import { ContractBus } from '@infra/messaging';
import { sendNodeResponse } from '@whatwg-node/server';
import { RunModeSettings, type RunMode } from '@infra/config';
import { OpenStreams, STREAM_RETRY_AFTER_SECONDS, streamOf } from '../admission/stream-admission';
import { AccessTokenVerifier } from '../auth/access-token.verifier';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import { problem, ProblemError } from '../problem/problem';
import { RateLimiter } from '../rate-limit/rate-limiter';
import { OrderPlacement } from '../routes/place-order';
import { bearerTokenOf, RequestContexts, streamCallContext } from '../request-context';
import { GRAPHQL_LIMITS, shopGraphqlServer, type ShopGraphqlServer } from './graphql-server';

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
    @Inject(PAYMENTS) payments: PaymentsApi,
    @Inject(SHIPPING) shipping: ShippingApi,
    @Inject(NOTIFICATIONS) notifications: NotificationsApi,
    @Inject(RunModeSettings.token) mode: RunMode,
    private readonly verifier: AccessTokenVerifier,
    private readonly contexts: RequestContexts,
    private readonly limiter: RateLimiter,
    private readonly streams: OpenStreams,
    placement: OrderPlacement,
    bus: ContractBus,
    modules: ModuleRef,
  ) {
    const admitOrder = (caller: Caller) => this.admitOrder(caller);
    const placeOrder = placement.place.bind(placement);
    this.server = shopGraphqlServer(
      { catalog, inventory, ordering, payments, shipping, notifications, placeOrder, admitOrder },
      { production: mode.production, remote: remoteSubgraphs(bus, modules) },
    );
  }

  /**
   * An order placed here counts as a `POST /orders` of the caller's: the same counter, so that
   * neither API, nor aliases of `placeOrder` in one mutation, buys more orders than the limit.
   */
  private async admitOrder(caller: Caller): Promise<void> {
    if (!this.limiter.settings.enabled) return;
    const verdict = await this.limiter.check(
      this.limiter.ruleFor('POST', '/orders'),
      'POST /orders',
      `sub:${caller.subject}`,
    );
    if (verdict && !verdict.allowed) {
      const { limit, windowSeconds } = verdict.rule;
      const detail = `more than ${limit} orders in ${windowSeconds} s; retry in ${verdict.resetSeconds} s`;
      throw new ProblemError(problem(429, 'rate-limited', detail, { retryAfterSeconds: verdict.resetSeconds }));
    }
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
    refuseWhatTheEdgeDidNotRead(request);
    if (request.headers.authorization !== undefined) {
      request.caller = await this.verifier.verify(request.headers.authorization);
    }
    const ctx = this.contexts.of(request);
    const stream = streamOf(request);
    if (!stream) {
      await this.answer(request, response, { ctx });
      return;
    }
    // A stream: a subscription of a signed-in caller, one of their few, for as long as it may live
    // and their token is valid, each of its contract calls with the request budget of its own.
    if (!request.caller) {
      throw new ProblemError(problem(401, 'missing-token', 'a stream is for a signed-in caller: send a Bearer token'));
    }
    if (operationOf(request) !== OperationTypeNode.SUBSCRIPTION) {
      throw new ProblemError(
        problem(406, 'not-acceptable', 'only a subscription is answered as a stream: ask for application/json'),
      );
    }
    const refused = this.streams.claim(request.caller.subject, request);
    if (refused === 'too-many-streams') {
      const { perCaller } = this.streams.limits;
      throw new ProblemError(problem(429, 'too-many-streams', `at most ${perCaller} open streams per caller`));
    }
    if (refused) {
      const detail =
        refused === 'shutting-down'
          ? 'this server is stopping; subscribe again'
          : 'this server holds all the streams it can; retry shortly';
      throw new ProblemError(problem(503, refused, detail, { retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS }));
    }
    const until = Math.min(stream.opened + this.streams.limits.maxLifetimeMs, tokenExpiryOf(request));
    await this.answer(request, response, { ctx: streamCallContext(ctx, this.contexts.budgetMs), stream: { until } });
  }

  /**
   * Yoga's answer, written here. Its own request listener would answer whatever it throws while
   * reading the request (a URL it cannot build) with the error's stack as plain text; here that
   * goes to the problem filter as any handler's failure does: a 500 problem, logged.
   */
  private async answer(request: AuthenticatedRequest, response: Response, context: SubgraphContext): Promise<void> {
    const answer = await this.server.handleNodeRequestAndResponse(request, response, context);
    await sendNodeResponse(answer, response, request, false);
  }
}

/**
 * The subgraphs whose contexts run in another process, asked there (`SubgraphServing` serves
 * them); a context this process hosts is planned over here, with no hop.
 */
function remoteSubgraphs(bus: ContractBus, modules: ModuleRef): (subgraph: string) => SubgraphApi | undefined {
  let clients: Map<string, { contract: Contract; client: SubgraphApi }> | undefined;
  return (subgraph) => {
    clients ??= new Map(
      ALL_SUBGRAPHS.map(({ name, contract }) => [
        name,
        { contract, client: modules.get<SubgraphApi>(contract.token, { strict: false }) },
      ]),
    );
    const known = clients.get(subgraph);
    return known && !bus.inProcess.serves(known.contract) ? known.client : undefined;
  };
}

/**
 * The edge's body rules hold for GraphQL too: a POST is JSON, read (and size-limited, and checked
 * for NUL) by the edge's own parser before it gets here, never a form or multipart body Yoga would
 * read itself; a GET's `variables` and `extensions` are JSON objects.
 */
function refuseWhatTheEdgeDidNotRead(request: AuthenticatedRequest): void {
  if (request.method === 'POST' && !request.is(['application/json', 'application/*+json'])) {
    throw new ProblemError(problem(415, 'unsupported-media-type', 'a GraphQL request is POSTed as application/json'));
  }
  if (request.method !== 'GET') return;
  // Given twice, Express reads a parameter as a list, which Yoga would run joined with commas.
  for (const name of ['query', 'operationName', 'variables', 'extensions']) {
    const value = request.query[name];
    if (value !== undefined && typeof value !== 'string') {
      throw new ProblemError(problem(400, 'invalid-query', `the ${name} parameter is given more than once`));
    }
  }
  for (const name of ['variables', 'extensions']) {
    const value = request.query[name];
    if (value !== undefined && !isJsonObject(value)) {
      throw new ProblemError(problem(400, 'malformed-json', `the ${name} parameter is not a JSON object`));
    }
  }
}

/**
 * The kind of operation a request asks to run (the one named by `operationName`, or its only
 * one); undefined when its text does not parse or names none (Yoga then says why).
 */
function operationOf(request: AuthenticatedRequest): OperationTypeNode | undefined {
  const params = (request.method === 'GET' ? request.query : request.body) as
    { query?: unknown; operationName?: unknown } | undefined;
  if (typeof params?.query !== 'string') return undefined;
  let document: DocumentNode;
  try {
    document = parse(params.query, { maxTokens: GRAPHQL_LIMITS.maxTokens });
  } catch {
    return undefined;
  }
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const named = typeof params.operationName === 'string' ? params.operationName : undefined;
  const chosen =
    named === undefined ? operations.length === 1 && operations[0] : operations.find((o) => o.name?.value === named);
  return chosen ? chosen.operation : undefined;
}

/** When the request's (verified) access token expires, in epoch ms; never without one. */
function tokenExpiryOf(request: AuthenticatedRequest): number {
  const token = request.caller ? bearerTokenOf(request) : undefined;
  const exp = token ? decodeJwt(token).exp : undefined;
  return exp === undefined ? Number.POSITIVE_INFINITY : exp * 1_000;
}

function isJsonObject(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}
