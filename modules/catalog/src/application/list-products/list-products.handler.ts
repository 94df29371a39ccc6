import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ProductRepository } from '../../persistence/product.repository';
import { ListProductsQuery, type ProductPage } from './list-products.query';

@QueryHandler(ListProductsQuery)
export class ListProductsHandler implements IQueryHandler<ListProductsQuery, ProductPage> {
  constructor(private readonly products: ProductRepository) {}

  async execute(query: ListProductsQuery): Promise<ProductPage> {
    const { items, total } = await this.products.page(query.page, query.pageSize);
    return { items, total, page: query.page, pageSize: query.pageSize };
  }
}
