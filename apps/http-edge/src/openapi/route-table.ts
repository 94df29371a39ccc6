import { z } from 'zod';
import { CatalogContract, ProductSchema } from '@contracts/catalog';
import { IdentityContract } from '@contracts/identity';
import { InventoryContract, StockLevelSchema } from '@contracts/inventory';
import { NotificationsContract } from '@contracts/notifications';
import { OrderingContract, OrderStatusSchema, OrderViewSchema } from '@contracts/ordering';
import { PaymentsContract, PaymentViewSchema } from '@contracts/payments';
import { ShippingContract } from '@contracts/shipping';
import { ProductsQuery, RestockBody, SkuParam, PageQuery } from '../routes/catalog.controller';
import { MailboxQuery } from '../routes/dev-mailbox.controller';
import { ConfirmBody, LoginBody, RefreshTokenBody, RegisterBody } from '../routes/identity.controller';
import { NotificationsQuery } from '../routes/notifications.controller';
import { ReplayParams, RotateBody } from '../routes/operations.controller';
import { CustomerParam, OrderParam } from '../routes/orders.controller';
import { IdempotencyKey, PlaceOrderBody } from '../routes/place-order';

/** Who may call a route: anyone, any signed-in caller (bearer token), or an admin's token. */
export type RouteAuth = 'none' | 'bearer' | 'admin';

export interface DocumentedRoute {
  readonly method: 'GET' | 'POST';
  /** As declared on the controller (`orders/:id`), so a test can match it to the metadata. */
  readonly route: string;
  readonly summary: string;
  readonly auth: RouteAuth;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly headers?: Readonly<Record<string, z.ZodType>>;
  readonly body?: z.ZodType;
  readonly success: { readonly status: number; readonly schema?: z.ZodType; readonly contentType?: string };
  /** Besides 400, 429 and 500, which any route may answer (openapi-document.ts). */
  readonly errors: readonly number[];
}

/** An order answer links its other views, so a client need not build paths itself. */
const OrderLinks = z.object({ self: z.string(), timeline: z.string(), details: z.string(), payment: z.string() });
const Part = <T extends z.ZodType>(value: T) =>
  z.union([
    z.object({ available: z.literal(true), value }),
    z.object({ available: z.literal(false), reason: z.string() }),
  ]);
const Health = z.looseObject({ status: z.string() });
/** A GraphQL operation, as GraphQL over HTTP carries it (docs/graphql.md has the schema). */
const GraphqlRequest = z.object({
  query: z.string(),
  operationName: z.string().optional(),
  variables: z.record(z.string(), z.unknown()).optional(),
});
const GraphqlAnswer = z.object({
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  errors: z
    .array(
      z.object({
        message: z.string(),
        path: z.array(z.union([z.string(), z.number()])).optional(),
        extensions: z.object({ code: z.string(), status: z.number().int() }).optional(),
      }),
    )
    .optional(),
});
const GRAPHQL_SUMMARY =
  "The shop's GraphQL supergraph: products with their stock, your orders with their lines' products " +
  '(orders signed in; errors carry the REST problem code and status in extensions)';

/**
 * Every public route with the schemas its controller parses and the contract answer it returns.
 * The OpenAPI document is generated from this table; a test holds it equal to the controllers.
 */
export const ROUTE_TABLE: readonly DocumentedRoute[] = [
  {
    method: 'GET',
    route: 'catalog/products',
    summary: 'A page of products, optionally with stock per product',
    auth: 'none',
    query: ProductsQuery,
    success: {
      status: 200,
      schema: CatalogContract.methods.listProducts.response.extend({
        items: z.array(
          ProductSchema.extend({
            stock: z.union([z.object({ available: z.number().int() }), z.literal('unknown')]).optional(),
          }),
        ),
      }),
    },
    errors: [400],
  },
  {
    method: 'GET',
    route: 'catalog/products/:sku',
    summary: 'One product of the catalogue',
    auth: 'none',
    params: SkuParam,
    success: { status: 200, schema: CatalogContract.methods.getProduct.response },
    errors: [400, 404],
  },
  {
    method: 'GET',
    route: 'inventory/stock/:sku',
    summary: 'Stock of a product',
    auth: 'none',
    params: SkuParam,
    success: { status: 200, schema: StockLevelSchema },
    errors: [400, 404],
  },
  {
    method: 'POST',
    route: 'inventory/stock/:sku/restock',
    summary: 'Add stock of a product',
    auth: 'admin',
    params: SkuParam,
    body: RestockBody,
    success: { status: 201, schema: InventoryContract.methods.restock.response },
    errors: [400, 401, 403, 404, 422],
  },
  {
    method: 'POST',
    route: 'identity/register',
    summary: 'Create a customer account; the same answer for a known address (its owner is mailed)',
    auth: 'none',
    body: RegisterBody,
    success: { status: 202, schema: z.object({ status: z.literal('confirmation-sent'), detail: z.string() }) },
    errors: [422],
  },
  {
    method: 'POST',
    route: 'identity/confirm',
    summary: 'Confirm the email address: the mailed token (single use) and the password chosen when registering',
    auth: 'none',
    body: ConfirmBody,
    success: { status: 200, schema: IdentityContract.methods.confirmEmail.response },
    errors: [422],
  },
  {
    method: 'GET',
    route: 'identity/confirm',
    summary: 'The link of the confirmation email: a page that asks for the password and confirms with it',
    auth: 'none',
    // What the link carries (the page's script reads it; the page is the same for any value).
    query: z.object({ token: z.string().optional() }),
    success: { status: 200, schema: z.string(), contentType: 'text/html' },
    errors: [],
  },
  {
    method: 'POST',
    route: 'identity/login',
    summary: 'Sign in: an access token and a refresh token (403 until the email is confirmed)',
    auth: 'none',
    body: LoginBody,
    success: { status: 200, schema: IdentityContract.methods.login.response },
    errors: [401, 403, 422],
  },
  {
    method: 'POST',
    route: 'identity/token',
    summary: 'Trade a refresh token (used up) for new tokens',
    auth: 'none',
    body: RefreshTokenBody,
    success: { status: 200, schema: IdentityContract.methods.refresh.response },
    errors: [401, 422],
  },
  {
    method: 'POST',
    route: 'identity/logout',
    summary: 'End the sign-in a refresh token belongs to',
    auth: 'none',
    body: RefreshTokenBody,
    success: { status: 204 },
    errors: [422],
  },
  {
    method: 'GET',
    route: '.well-known/jwks.json',
    summary: 'Public keys that sign access tokens',
    auth: 'none',
    success: { status: 200, schema: IdentityContract.methods.getJwks.response },
    errors: [],
  },
  {
    method: 'POST',
    route: 'orders',
    summary: 'Place an order (its saga runs after the answer)',
    auth: 'bearer',
    headers: { 'Idempotency-Key': IdempotencyKey },
    body: PlaceOrderBody,
    success: {
      status: 202,
      schema: OrderingContract.methods.placeOrderWithPaymentMethod.response.extend({
        status: OrderStatusSchema,
        links: OrderLinks,
      }),
    },
    errors: [400, 401, 409, 422],
  },
  {
    method: 'GET',
    route: 'orders/:id',
    summary: 'An order of the caller (admins: any order)',
    auth: 'bearer',
    params: OrderParam,
    success: { status: 200, schema: OrderViewSchema },
    errors: [400, 401, 404],
  },
  {
    method: 'GET',
    route: 'orders/:id/timeline',
    summary: "The steps of an order's saga",
    auth: 'bearer',
    params: OrderParam,
    success: { status: 200, schema: OrderingContract.methods.getTimeline.response },
    errors: [400, 401, 404],
  },
  {
    method: 'GET',
    route: 'orders/:id/payment',
    summary: 'The payment of an order',
    auth: 'bearer',
    params: OrderParam,
    success: { status: 200, schema: PaymentViewSchema },
    errors: [400, 401, 404, 503, 504],
  },
  {
    method: 'GET',
    route: 'orders/:id/details',
    summary: 'An order with its payment, shipment and product names',
    auth: 'bearer',
    params: OrderParam,
    success: {
      status: 200,
      schema: z.object({
        order: OrderViewSchema.extend({
          items: z.array(z.looseObject({ sku: z.string(), productName: z.string().nullable() })),
        }),
        payment: Part(PaymentsContract.methods.getPayment.response),
        shipment: Part(ShippingContract.methods.getShipment.response),
        products: z.looseObject({ available: z.boolean() }),
      }),
    },
    errors: [400, 401, 404],
  },
  {
    method: 'GET',
    route: 'customers/me/orders',
    summary: "A page of the caller's orders",
    auth: 'bearer',
    query: PageQuery,
    success: { status: 200, schema: OrderingContract.methods.listCustomerOrders.response },
    errors: [400, 401],
  },
  {
    method: 'GET',
    route: 'admin/customers/:customerId/orders',
    summary: "A page of any customer's orders (admins)",
    auth: 'admin',
    params: CustomerParam,
    query: PageQuery,
    success: { status: 200, schema: OrderingContract.methods.listCustomerOrders.response },
    errors: [400, 401, 403],
  },
  {
    method: 'GET',
    route: 'notifications',
    summary: "The caller's notifications (admins: everyone's with all=true)",
    auth: 'bearer',
    query: NotificationsQuery,
    success: { status: 200, schema: NotificationsContract.methods.listNotifications.response },
    errors: [400, 401],
  },
  {
    method: 'POST',
    route: 'graphql',
    summary: GRAPHQL_SUMMARY,
    auth: 'none',
    body: GraphqlRequest,
    success: { status: 200, schema: GraphqlAnswer },
    errors: [401],
  },
  {
    method: 'GET',
    route: 'graphql',
    summary: `${GRAPHQL_SUMMARY}; queries only, as ?query=&variables=`,
    auth: 'none',
    query: z.object({ query: z.string(), operationName: z.string().optional(), variables: z.string().optional() }),
    success: { status: 200, schema: GraphqlAnswer },
    errors: [401],
  },
  {
    method: 'GET',
    route: 'dev/mailbox',
    summary: 'Development only (no such route with NODE_ENV=production): what the shop mailed to an address',
    auth: 'none',
    query: MailboxQuery,
    success: { status: 200, schema: NotificationsContract.methods.mailbox.response },
    errors: [404],
  },
  {
    method: 'GET',
    route: 'health',
    summary: 'Liveness',
    auth: 'none',
    success: { status: 200, schema: Health },
    errors: [],
  },
  // /ready and /metrics are on the operations port (docs/observability.md), not in the public API.
  {
    method: 'GET',
    route: 'admin/dead-letters',
    summary: 'Dead letters of the contexts in this process: waiting for a replay, and the latest replayed',
    auth: 'admin',
    success: {
      status: 200,
      schema: z.object({
        contexts: z.array(z.string()),
        items: z.array(z.looseObject({})),
        replayed: z.array(z.looseObject({})),
      }),
    },
    errors: [401, 403],
  },
  {
    method: 'POST',
    route: 'admin/dead-letters/:context/:id/replay',
    summary: 'Replay a dead letter',
    auth: 'admin',
    params: ReplayParams,
    success: { status: 201, schema: z.object({ outcome: z.string() }) },
    errors: [400, 401, 403, 404, 409],
  },
  {
    method: 'POST',
    route: 'admin/keys/rotate',
    summary: 'Sign with a new key now; retirePrevious: the old ones stop verifying at once (a leaked key)',
    auth: 'admin',
    body: RotateBody,
    success: { status: 201, schema: IdentityContract.methods.rotateSigningKey.response },
    errors: [401, 403, 415, 422],
  },
  {
    method: 'POST',
    route: 'admin/order-history/rebuild',
    summary: 'Rebuild the order-history read model',
    auth: 'admin',
    success: { status: 201, schema: OrderingContract.methods.rebuildOrderHistory.response },
    errors: [401, 403],
  },
  {
    method: 'GET',
    route: 'docs',
    summary: 'This API, as a page listing its operations',
    auth: 'none',
    success: { status: 200, schema: z.string(), contentType: 'text/html' },
    errors: [],
  },
  {
    method: 'GET',
    route: 'docs/schema.graphql',
    summary: "The GraphQL supergraph's schema, in SDL (what POST /graphql serves)",
    auth: 'none',
    success: { status: 200, schema: z.string(), contentType: 'text/plain' },
    errors: [],
  },
  {
    method: 'GET',
    route: 'docs/openapi.json',
    summary: 'This API, as an OpenAPI 3.1 document',
    auth: 'none',
    success: { status: 200, schema: z.looseObject({ openapi: z.string() }) },
    errors: [],
  },
];
