import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ProductRepository } from '../../persistence/product.repository';
import { GetProductsQuery, type ProductLookup } from './get-products.query';

@QueryHandler(GetProductsQuery)
export class GetProductsHandler implements IQueryHandler<GetProductsQuery, ProductLookup> {
  constructor(private readonly products: ProductRepository) {}

  async execute(query: GetProductsQuery): Promise<ProductLookup> {
    const unique = [...new Set(query.skus)];
    const products = await this.products.findBySkus(unique);
    const found = new Set(products.map((p) => p.sku));
    return { products, missingSkus: unique.filter((sku) => !found.has(sku)) };
  }
}
