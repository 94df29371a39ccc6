import { Query } from '@nestjs/cqrs';
import type { Product } from '../../domain/product';

export interface ProductPage {
  readonly items: Product[];
  readonly page: number;
  readonly pageSize: number;
  readonly total: number;
}

export class ListProductsQuery extends Query<ProductPage> {
  constructor(
    readonly page: number,
    readonly pageSize: number,
  ) {
    super();
  }
}
