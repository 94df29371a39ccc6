import { Body, Controller, Get, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { CATALOG, type CatalogApi } from '@contracts/catalog';
import { INVENTORY, InventoryContract, type InventoryApi } from '@contracts/inventory';
import { SkuSchema } from '@contracts/kernel';
import { AuthGuard, RequireRoles } from '../auth/auth.guard';
import { LastKnownProductNames } from '../fallbacks/product-names';
import { RequestContexts } from '../request-context';
import { parseOr } from '../validation';

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export const ProductsQuery = PageQuery.extend({ withStock: z.enum(['true', 'false']).optional() });
export const SkuParam = z.object({ sku: SkuSchema });
/** `POST /inventory/stock/:sku/restock`: the contract's quantity (the sku is the path's). */
export const RestockBody = z.strictObject({ quantity: InventoryContract.methods.restock.request.shape.quantity });

@Controller()
@UseGuards(AuthGuard)
export class CatalogController {
  constructor(
    @Inject(CATALOG) private readonly catalog: CatalogApi,
    @Inject(INVENTORY) private readonly inventory: InventoryApi,
    private readonly contexts: RequestContexts,
    private readonly names: LastKnownProductNames,
  ) {}

  /**
   * A page of products. With `?withStock=true`, each carries its availability from inventory,
   * fetched alongside; when inventory cannot answer, the page still comes, with stock "unknown".
   */
  @Get('catalog/products')
  async products(@Req() request: Request, @Query() query: unknown) {
    const { withStock, ...page } = parseOr(ProductsQuery, query, 'query');
    const ctx = this.contexts.of(request);
    const products = await this.catalog.listProducts(ctx, page);
    this.names.remember(products.items);
    if (withStock !== 'true' || products.items.length === 0) return products;
    const levels = await this.inventory
      .checkStock(ctx, { skus: products.items.map((p) => p.sku) })
      .then((answer) => new Map(answer.levels.map((level) => [level.sku, level.available])))
      .catch(() => undefined);
    return {
      ...products,
      items: products.items.map((product) => ({
        ...product,
        stock: levels ? { available: levels.get(product.sku) ?? 0 } : ('unknown' as const),
      })),
    };
  }

  @Get('catalog/products/:sku')
  product(@Req() request: Request, @Param() params: unknown) {
    return this.catalog.getProduct(this.contexts.of(request), parseOr(SkuParam, params, 'path'));
  }

  /** Stock of a product of the catalogue; a sku the catalogue does not know is a 404. */
  @Get('inventory/stock/:sku')
  async stock(@Req() request: Request, @Param() params: unknown) {
    const { sku } = parseOr(SkuParam, params, 'path');
    const ctx = this.contexts.of(request);
    const [, levels] = await Promise.all([
      this.catalog.getProduct(ctx, { sku }),
      this.inventory.checkStock(ctx, { skus: [sku] }),
    ]);
    return levels.levels[0];
  }

  @Post('inventory/stock/:sku/restock')
  @RequireRoles('admin')
  async restock(@Req() request: Request, @Param() params: unknown, @Body() body: unknown) {
    const { sku } = parseOr(SkuParam, params, 'path');
    const { quantity } = parseOr(RestockBody, body, 'body');
    const ctx = this.contexts.of(request);
    await this.catalog.getProduct(ctx, { sku });
    return this.inventory.restock(ctx, { sku, quantity });
  }
}
