import { GraphQLError } from 'graphql';
import type { CatalogApi, Product } from '@contracts/catalog';
import { ALL_SUBGRAPHS } from '@contracts/contexts';
import type { InventoryApi } from '@contracts/inventory';
import type { NotificationsApi } from '@contracts/notifications';
import { isContractError, unauthenticated, type CallContext, type Caller, type SubgraphSdl } from '@contracts/kernel';
import type { OrderingApi, OrderView } from '@contracts/ordering';
import type { PaymentsApi } from '@contracts/payments';
import type { ShippingApi } from '@contracts/shipping';
import {
  buildSubgraphSchema,
  type ComposableSubgraph,
  type SubgraphContext,
  type SubgraphResolvers,
} from '@infra/graphql';
import { problemOfContractError, ProblemError } from '../problem/problem';
import { parseIdempotencyKey, PlaceOrderBody, type OrderToPlace, type PlacedOrder } from '../routes/place-order';
import { parseOr } from '../validation';
import { ownedOrder } from '../routes/owned-order';
import { orderUpdates, type OrderUpdate } from './order-updates';

/** The contracts the subgraphs' resolvers call: each subgraph its own context's only. */
export interface SubgraphApis {
  readonly catalog: CatalogApi;
  readonly inventory: InventoryApi;
  readonly ordering: OrderingApi;
  readonly payments: PaymentsApi;
  readonly shipping: ShippingApi;
  readonly notifications: NotificationsApi;
}

/** What only the edge does: placing an order (the `placeOrder` mutation runs there, ADR 0044). */
export interface EdgeOperations {
  /** How an order is placed, by either API (`OrderPlacement`). */
  readonly placeOrder: (ctx: CallContext, order: OrderToPlace, key: string | undefined) => Promise<PlacedOrder>;
  /**
   * Counts an order against the caller's orders rate limit (REST's `POST /orders` counter: the
   * same orders by either API), throwing the 429 problem past it.
   */
  readonly admitOrder: (caller: Caller) => Promise<void>;
}

export type ShopApis = SubgraphApis & EdgeOperations;

/**
 * The most keys one contract call takes (skus of `getProducts` and `checkStock`, order ids of
 * `getPayments` and `getShipments`): a longer list is asked in parts.
 */
const KEYS_PER_CALL = 100;

/** Each subgraph's resolvers, by its name; `edge` is given where the subgraph runs at the edge. */
const RESOLVERS: Record<string, (apis: SubgraphApis, edge?: EdgeOperations) => SubgraphResolvers> = {
  catalog: (apis) => catalogResolvers(apis.catalog),
  inventory: (apis) => inventoryResolvers(apis.inventory),
  ordering: (apis, edge) => orderingResolvers(apis.ordering, edge),
  payments: (apis) =>
    entitiesOnOrders('payment', async (ctx, orderIds) => (await apis.payments.getPayments(ctx, { orderIds })).payments),
  shipping: (apis) =>
    entitiesOnOrders(
      'shipment',
      async (ctx, orderIds) => (await apis.shipping.getShipments(ctx, { orderIds })).shipments,
    ),
  identity: () => ({
    Query: { me: (_, __, { ctx }) => ({ id: callerOf(ctx).subject }) },
    // Only the planner asks, with the ids `me` answered: a customer is their id.
    entities: { Customer: async (keys) => keys.map((key) => ({ id: key.id })) },
  }),
  notifications: (apis) => notificationsResolvers(apis.notifications),
};

/**
 * The shop's subgraphs (every one the contracts declare, `ALL_SUBGRAPHS`), as the edge runs them,
 * each answered through its context's contract only, whatever process the context runs in: the
 * contract clients route the calls as the topology says. A subgraph declared with no resolvers
 * here stops the start.
 */
export function shopSubgraphs(apis: ShopApis): ComposableSubgraph[] {
  return ALL_SUBGRAPHS.map((sdl) => subgraph(sdl, resolversOf(sdl.name)(apis, apis)));
}

/**
 * One subgraph as the service that hosts its context serves it to a gateway elsewhere: queries
 * only (its resolvers call the context's own contract, in that process); the edge keeps the rest.
 */
export function servedShopSubgraph(sdl: SubgraphSdl, apis: SubgraphApis): ComposableSubgraph {
  return subgraph(sdl, resolversOf(sdl.name)(apis));
}

function resolversOf(name: string): (apis: SubgraphApis, edge?: EdgeOperations) => SubgraphResolvers {
  if (!Object.hasOwn(RESOLVERS, name)) {
    throw new Error(`the ${name} subgraph has no resolvers in apps/http-edge/src/graphql/shop-subgraphs.ts`);
  }
  return RESOLVERS[name];
}

/**
 * An error in GraphQL as the REST edge would have answered it: the problem's stable code and
 * status (and its field errors, for a refused input) in `extensions`. Anything else is left to
 * the server, which masks it.
 */
export function graphqlErrorOf(error: unknown): GraphQLError | undefined {
  const problem =
    error instanceof ProblemError ? error.problem : isContractError(error) ? problemOfContractError(error) : undefined;
  if (!problem) return undefined;
  const { detail, code, status, errors, retryAfterSeconds } = problem;
  return new GraphQLError(detail, {
    extensions: { code, status, ...(errors ? { errors } : {}), ...(retryAfterSeconds ? { retryAfterSeconds } : {}) },
  });
}

function subgraph(sdl: SubgraphSdl, resolvers: SubgraphResolvers): ComposableSubgraph {
  return { ...sdl, schema: buildSubgraphSchema(sdl.typeDefs, resolvers, graphqlErrorOf) };
}

/** The arguments of a page: GraphQL fills in the defaults the SDL declares. */
type PageArgs = { page: number; pageSize: number };

function catalogResolvers(catalog: CatalogApi): SubgraphResolvers {
  return {
    Query: {
      product: (_, { sku }: { sku: string }, { ctx }) => catalog.getProduct(ctx, { sku }),
      products: (_, { page, pageSize }: PageArgs, { ctx }) => catalog.listProducts(ctx, { page, pageSize }),
    },
    entities: {
      Product: async (keys, { ctx }) => {
        const answers = await inParts(keys, 'sku', (skus) => catalog.getProducts(ctx, { skus }));
        const bySku = new Map<string, Product>(answers.flatMap((a) => a.products).map((p) => [p.sku, p]));
        return keys.map((key) => bySku.get(String(key.sku)) ?? null);
      },
    },
  };
}

function inventoryResolvers(inventory: InventoryApi): SubgraphResolvers {
  return {
    entities: {
      Product: async (keys, { ctx }) => {
        const answers = await inParts(keys, 'sku', (skus) => inventory.checkStock(ctx, { skus }));
        const available = new Map(answers.flatMap((a) => a.levels).map((level) => [level.sku, level.available]));
        return keys.map((key) => ({ sku: key.sku, stock: { available: available.get(String(key.sku)) ?? 0 } }));
      },
    },
  };
}

function orderingResolvers(ordering: OrderingApi, edge: EdgeOperations | undefined): SubgraphResolvers {
  return {
    ...(edge && {
      Mutation: {
        placeOrder: async (_, args: { input: unknown; idempotencyKey?: string | null }, { ctx }) => {
          await edge.admitOrder(callerOf(ctx));
          const order = parseOr(PlaceOrderBody, args.input, 'input');
          const key = args.idempotencyKey == null ? undefined : parseIdempotencyKey(args.idempotencyKey);
          return edge.placeOrder(ctx, order, key);
        },
      },
    }),
    Query: {
      order: async (_, { id }: { id: string }, { ctx }) => orderOf(await ownedOrder(ordering, signedIn(ctx), id)),
      myOrders: (_, page: PageArgs, { ctx }) => ordersOf(ordering, ctx, callerOf(ctx).subject, page),
    },
    Subscription: {
      orderUpdated: (_, { id }: { id: string }, context) => orderUpdates(ordering, signedInStream(context), id),
    },
    fields: {
      OrderLine: { product: (line) => ({ sku: (line as { sku: string }).sku }) },
      Order: {
        // An update of `orderUpdated` carries the steps of its version; a query reads them.
        timeline: async (order, _, { ctx }) =>
          (order as Partial<OrderUpdate>).timeline ??
          (await ordering.getTimeline(ctx, { orderId: (order as { id: string }).id })).steps,
      },
      Customer: {
        orders: (customer, page: PageArgs, { ctx }) =>
          ordersOf(ordering, signedIn(ctx), (customer as { id: string }).id, page),
      },
      PlacedOrder: {
        order: async (placed, _, { ctx }) =>
          orderOf(await ordering.getOrder(ctx, { orderId: (placed as { orderId: string }).orderId })),
      },
    },
    entities: {
      // The same rule as order(id): another customer's order is not found, here as `null`.
      Order: (keys, { ctx }) =>
        Promise.all(
          keys.map((key) => notFoundAsNull(ownedOrder(ordering, signedIn(ctx), String(key.id)).then(orderOf))),
        ),
      OrderSummary: (keys, { ctx }) =>
        Promise.all(
          keys.map((key) => notFoundAsNull(ownedOrder(ordering, signedIn(ctx), String(key.id)).then(summaryOf))),
        ),
      Customer: async (keys) => keys.map((key) => ({ id: key.id })),
    },
  };
}

/**
 * A field another context adds to `Order` and `OrderSummary`: one contract call for all the
 * orders of a level of a query (a page of `myOrders`), the orders' own parts (the planner asks only
 * for orders ordering has already let the caller see). An order the answer leaves out has none
 * (yet, or ever): null, no error.
 */
function entitiesOnOrders<T extends { orderId: string }>(
  field: 'payment' | 'shipment',
  read: (ctx: CallContext, orderIds: string[]) => Promise<readonly T[]>,
): SubgraphResolvers {
  const lookup: NonNullable<SubgraphResolvers['entities']>[string] = async (keys, { ctx }) => {
    const answers = await inParts(keys, 'id', (orderIds) => read(ctx, orderIds));
    const byOrder = new Map(answers.flat().map((answer) => [answer.orderId, answer]));
    return keys.map((key) => ({ id: key.id, [field]: byOrder.get(String(key.id)) ?? null }));
  };
  return { entities: { Order: lookup, OrderSummary: lookup } };
}

function notificationsResolvers(notifications: NotificationsApi): SubgraphResolvers {
  return {
    fields: {
      Customer: {
        notifications: async (customer, { page, pageSize }: PageArgs, { ctx }) => {
          const recipientId = (customer as { id: string }).id;
          const answer = await notifications.listNotifications(signedIn(ctx), { recipientId, page, pageSize });
          return { items: answer.items, page, pageSize, total: answer.total };
        },
      },
    },
    entities: { Customer: async (keys) => keys.map((key) => ({ id: key.id })) },
  };
}

/** A page of a customer's orders (the caller's own, or any for an admin: the contract decides). */
async function ordersOf(ordering: OrderingApi, ctx: CallContext, customerId: string, { page, pageSize }: PageArgs) {
  const answer = await ordering.listCustomerOrders(ctx, { customerId, page, pageSize });
  return {
    items: answer.items.map(({ orderId, ...summary }) => ({ id: orderId, ...summary })),
    page,
    pageSize,
    total: answer.total,
  };
}

function summaryOf(order: OrderView) {
  const itemCount = order.items.reduce((sum, line) => sum + line.quantity, 0);
  return { id: order.id, status: order.status, total: order.total, itemCount, createdAt: order.createdAt };
}

function orderOf(order: OrderView) {
  return { ...order, lines: order.items };
}

function callerOf(ctx: CallContext): Caller {
  if (!ctx.caller) throw unauthenticated('missing-token', 'this query needs a Bearer access token');
  return ctx.caller;
}

function signedIn(ctx: CallContext): CallContext {
  callerOf(ctx);
  return ctx;
}

function signedInStream(context: SubgraphContext): SubgraphContext {
  signedIn(context.ctx);
  return context;
}

/** An entity's answer, or null where the contract says there is none (not found is no error here). */
function notFoundAsNull<T>(answer: Promise<T>): Promise<T | null> {
  return answer.catch((error: unknown) => {
    if (isContractError(error) && error.kind === 'not-found') return null;
    throw error;
  });
}

/**
 * One contract call for all the distinct keys of a level of a query (every line of every order
 * asked for, every order of a page), in parts of the most one call takes.
 */
function inParts<T>(
  keys: readonly Record<string, unknown>[],
  field: string,
  ask: (values: string[]) => Promise<T>,
): Promise<T[]> {
  const values = [...new Set(keys.map((key) => String(key[field])))];
  const parts: string[][] = [];
  for (let at = 0; at < values.length; at += KEYS_PER_CALL) parts.push(values.slice(at, at + KEYS_PER_CALL));
  return Promise.all(parts.map(ask));
}
