import { Query } from '@nestjs/cqrs';
import type { Product } from '../../domain/product';

export interface ProductLookup {
  readonly products: Product[];
  readonly missingSkus: string[];
}

export class GetProductsQuery extends Query<ProductLookup> {
  constructor(readonly skus: readonly string[]) {
    super();
  }
}
