import { Injectable } from '@nestjs/common';
import type { Product } from '@contracts/catalog';

const MAX_REMEMBERED = 10_000;

/**
 * The last product names the edge saw from the catalogue. When the catalogue cannot answer, order
 * details show these (marked as such) rather than no names at all: a product's name rarely
 * changes, and a stale one is better than a blank on a customer's page.
 */
@Injectable()
export class LastKnownProductNames {
  private readonly names = new Map<string, string>();

  remember(products: readonly Pick<Product, 'sku' | 'name'>[]): void {
    for (const product of products) {
      this.names.delete(product.sku); // re-insert: the map's order is the eviction order
      this.names.set(product.sku, product.name);
    }
    while (this.names.size > MAX_REMEMBERED) {
      this.names.delete(this.names.keys().next().value as string);
    }
  }

  nameOf(sku: string): string | undefined {
    return this.names.get(sku);
  }
}
