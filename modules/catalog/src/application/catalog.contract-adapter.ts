import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { CatalogApi } from '@contracts/catalog';
import { notFound, type CallContext } from '@contracts/kernel';
import { GetProductsQuery } from './get-products/get-products.query';
import { ListProductsQuery } from './list-products/list-products.query';

/** What other contexts may ask of the catalogue: the contract, served from the private bus. */
@Injectable()
export class CatalogContractAdapter implements CatalogApi {
  constructor(private readonly queries: QueryBus) {}

  listProducts(_ctx: CallContext, request: { page?: number; pageSize?: number }) {
    return this.queries.execute(new ListProductsQuery(request.page ?? 1, request.pageSize ?? 20));
  }

  getProducts(_ctx: CallContext, request: { skus: string[] }) {
    return this.queries.execute(new GetProductsQuery(request.skus));
  }

  async getProduct(_ctx: CallContext, request: { sku: string }) {
    const { products } = await this.queries.execute(new GetProductsQuery([request.sku]));
    if (products.length === 0) {
      throw notFound('unknown-sku', `no product has sku ${request.sku}`, { sku: request.sku });
    }
    return products[0];
  }
}
