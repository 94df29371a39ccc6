import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { CATALOG, type CatalogApi } from '@contracts/catalog';
import { IdSchema, type CallContext } from '@contracts/kernel';
import { ORDER_LINES, ORDERING, PlaceOrderRequestSchema, type OrderingApi, type OrderView } from '@contracts/ordering';
import { PAYMENTS, type PaymentsApi } from '@contracts/payments';
import { SHIPPING, type ShippingApi } from '@contracts/shipping';
import { AuthGuard, RequireRoles, type AuthenticatedRequest } from '../auth/auth.guard';
import { LastKnownProductNames } from '../fallbacks/product-names';
import { problem, ProblemError } from '../problem/problem';
import { RequestContexts } from '../request-context';
import { parseOr } from '../validation';
import { ownedOrder } from './owned-order';
import { PageQuery } from './catalog.controller';

const { items, paymentToken } = PlaceOrderRequestSchema.shape;

/**
 * `POST /orders`: the contract's lines and payment token, every limit the contract's own; strict
 * at every level here (an unknown field, also in a line, is refused, not dropped).
 */
export const PlaceOrderBody = z.strictObject({
  items: z.array(z.strictObject(items.element.shape)).min(ORDER_LINES.min).max(ORDER_LINES.max),
  paymentToken,
});
export const OrderParam = z.object({ id: IdSchema });
/** The `Idempotency-Key` header: the contract's key, in what a header may carry. */
export const IdempotencyKey = PlaceOrderRequestSchema.shape.idempotencyKey
  .unwrap()
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

type Part<T> = { available: true; value: T } | { available: false; reason: string };

@Controller()
@UseGuards(AuthGuard)
export class OrdersController {
  constructor(
    @Inject(ORDERING) private readonly ordering: OrderingApi,
    @Inject(PAYMENTS) private readonly payments: PaymentsApi,
    @Inject(SHIPPING) private readonly shipping: ShippingApi,
    @Inject(CATALOG) private readonly catalog: CatalogApi,
    private readonly contexts: RequestContexts,
    private readonly names: LastKnownProductNames,
  ) {}

  @Post('orders')
  @HttpCode(202)
  @RequireRoles()
  async place(
    @Req() request: AuthenticatedRequest,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ) {
    const ctx = this.contexts.of(request);
    const order = parseOr(PlaceOrderBody, body, 'body');
    const key = idempotencyKey === undefined ? undefined : parseIdempotencyKey(idempotencyKey);
    // The card token goes to payments and nowhere else; ordering and its events see only the id
    // of the payment method payments holds for it (ADR 0037).
    const held = await this.payments.holdPaymentMethod(ctx, { token: order.paymentToken });
    const { orderId, replayed } = await this.ordering.placeOrderWithPaymentMethod(ctx, {
      customerId: ctx.caller!.subject,
      items: order.items,
      paymentMethodId: held.paymentMethodId,
      paymentFingerprint: held.fingerprint,
      idempotencyKey: key,
    });
    // A replay answers as the order stands now; a new order has only just started its saga.
    const status = replayed ? (await this.ordering.getOrder(ctx, { orderId })).status : 'PENDING';
    return { orderId, status, replayed, links: orderLinks(orderId) };
  }

  @Get('orders/:id')
  @RequireRoles()
  async get(@Req() request: AuthenticatedRequest, @Param() params: unknown) {
    const ctx = this.contexts.of(request);
    return this.ownedOrder(ctx, parseOr(OrderParam, params, 'path').id);
  }

  @Get('orders/:id/timeline')
  @RequireRoles()
  async timeline(@Req() request: AuthenticatedRequest, @Param() params: unknown) {
    const ctx = this.contexts.of(request);
    const { id } = parseOr(OrderParam, params, 'path');
    await this.ownedOrder(ctx, id);
    return this.ordering.getTimeline(ctx, { orderId: id });
  }

  /**
   * The order's payment alone, straight from payments: unlike the details page there is nothing
   * to answer without it, so when payments cannot answer the caller gets 503 + Retry-After (or
   * 504 when it answered too slowly).
   */
  @Get('orders/:id/payment')
  @RequireRoles()
  async payment(@Req() request: AuthenticatedRequest, @Param() params: unknown) {
    const ctx = this.contexts.of(request);
    const order = await this.ownedOrder(ctx, parseOr(OrderParam, params, 'path').id);
    return this.payments.getPayment(ctx, { orderId: order.id });
  }

  /**
   * API composition: the order with its payment, shipment and product names, fetched in
   * parallel. A part whose context fails is marked unavailable; the rest still answers.
   */
  @Get('orders/:id/details')
  @RequireRoles()
  async details(@Req() request: AuthenticatedRequest, @Param() params: unknown) {
    const ctx = this.contexts.of(request);
    const order = await this.ownedOrder(ctx, parseOr(OrderParam, params, 'path').id);
    const [payment, shipment, products] = await Promise.all([
      part(this.payments.getPayment(ctx, { orderId: order.id })),
      part(this.shipping.getShipment(ctx, { orderId: order.id })),
      part(this.catalog.getProducts(ctx, { skus: [...new Set(order.items.map((item) => item.sku))] })),
    ]);
    if (products.available) this.names.remember(products.value.products);
    return {
      order: {
        ...order,
        // From this answer, or the last names seen when the catalogue could not answer now.
        items: order.items.map((item) => ({ ...item, productName: this.names.nameOf(item.sku) ?? null })),
      },
      payment,
      shipment,
      products: products.available ? { available: true } : { ...products, fallback: 'last-known-names' },
    };
  }

  @Get('customers/me/orders')
  @RequireRoles()
  myOrders(@Req() request: AuthenticatedRequest, @Query() query: unknown) {
    const ctx = this.contexts.of(request);
    return this.ordering.listCustomerOrders(ctx, {
      customerId: ctx.caller!.subject,
      ...parseOr(PageQuery, query, 'query'),
    });
  }

  private ownedOrder(ctx: CallContext, orderId: string): Promise<OrderView> {
    return ownedOrder(this.ordering, ctx, orderId);
  }
}

function parseIdempotencyKey(value: string): string {
  const result = IdempotencyKey.safeParse(value);
  if (!result.success) {
    throw new ProblemError(
      problem(400, 'invalid-idempotency-key', 'Idempotency-Key is 1–200 printable ASCII characters'),
    );
  }
  return result.data;
}

function orderLinks(orderId: string) {
  return {
    self: `/orders/${orderId}`,
    timeline: `/orders/${orderId}/timeline`,
    details: `/orders/${orderId}/details`,
    payment: `/orders/${orderId}/payment`,
  };
}

async function part<T>(call: Promise<T>): Promise<Part<T>> {
  try {
    return { available: true, value: await call };
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unavailable';
    return { available: false, reason: code };
  }
}
