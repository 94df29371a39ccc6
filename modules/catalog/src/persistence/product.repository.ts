import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@infra/persistence';
import type { Product } from '../domain/product';
import { ProductEntity } from './product.entity';

@Injectable()
export class ProductRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /** Catalogue reads and the seed run outside any transaction: TypeORM's repository on the pool. */
  private get products() {
    return this.uow.dataSource.getRepository(ProductEntity);
  }

  async page(page: number, pageSize: number): Promise<{ items: Product[]; total: number }> {
    const [rows, total] = await this.products.findAndCount({
      order: { sku: 'ASC' },
      skip: (page - 1) * pageSize,
      take: pageSize,
    });
    return { items: rows.map(toProduct), total };
  }

  /**
   * On every order's path (ordering prices its lines here): plain SQL, which costs the process a
   * fraction of what TypeORM's query builder does per call (docs/performance.md).
   */
  async findBySkus(skus: readonly string[]): Promise<Product[]> {
    const rows = (await this.uow.manager.query(
      'SELECT sku, name, price_minor, currency FROM products WHERE sku = ANY($1::text[])',
      [[...skus]],
    )) as Array<{
      sku: string;
      name: string;
      price_minor: number;
      currency: string;
    }>;
    return rows.map((row) => ({
      sku: row.sku,
      name: row.name,
      price: { amountMinor: row.price_minor, currency: row.currency },
    }));
  }

  async count(): Promise<number> {
    return this.products.count();
  }

  async insertMissing(products: readonly Product[]): Promise<void> {
    await this.products
      .createQueryBuilder()
      .insert()
      .values(
        products.map((p) => ({
          sku: p.sku,
          name: p.name,
          priceMinor: p.price.amountMinor,
          currency: p.price.currency,
        })),
      )
      .orIgnore()
      .execute();
  }
}

function toProduct(row: ProductEntity): Product {
  return { sku: row.sku, name: row.name, price: { amountMinor: row.priceMinor, currency: row.currency } };
}
