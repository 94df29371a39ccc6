import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { CATALOG, type CatalogApi } from '@contracts/catalog';
import { IdSchema, type CallContext } from '@contracts/kernel';
import { ORDERING, type OrderingApi, type OrderView } from '@contracts/ordering';
import { PAYMENTS, type PaymentsApi } from '@contracts/payments';
import { SHIPPING, type ShippingApi } from '@contracts/shipping';
import { AuthGuard, RequireRoles, type AuthenticatedRequest } from '../auth/auth.guard';
import { LastKnownProductNames } from '../fallbacks/product-names';
import { RequestContexts } from '../request-context';
import { parseOr } from '../validation';
import { ownedOrder } from './owned-order';
import { OrderPlacement, parseIdempotencyKey, PlaceOrderBody } from './place-order';
import { PageQuery } from './catalog.controller';

export const OrderParam = z.object({ id: IdSchema });
export const CustomerParam = z.object({ customerId: IdSchema });

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
    private readonly placement: OrderPlacement,
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
    const { orderId, status, replayed } = await this.placement.place(ctx, order, key);
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

  /** Admins: a page of any customer's orders (the console finds an order by its customer). */
  @Get('admin/customers/:customerId/orders')
  @RequireRoles('admin')
  customerOrders(@Req() request: AuthenticatedRequest, @Param() params: unknown, @Query() query: unknown) {
    const ctx = this.contexts.of(request);
    return this.ordering.listCustomerOrders(ctx, {
      customerId: parseOr(CustomerParam, params, 'path').customerId,
      ...parseOr(PageQuery, query, 'query'),
    });
  }

  private ownedOrder(ctx: CallContext, orderId: string): Promise<OrderView> {
    return ownedOrder(this.ordering, ctx, orderId);
  }
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
