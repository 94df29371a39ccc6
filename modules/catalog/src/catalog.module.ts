import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { CatalogContract } from '@contracts/catalog';
import { DemoSeedSettings } from '@infra/config';
import { FicusModule } from '@infra/runtime';
import { CatalogContractAdapter } from './application/catalog.contract-adapter';
import { GetProductsHandler } from './application/get-products/get-products.handler';
import { ListProductsHandler } from './application/list-products/list-products.handler';
import { SeedDemoCatalogue } from './application/seed-demo-catalogue';
import { CreateProducts1764000000100 } from './persistence/migrations/1764000000100-create-products';
import { ProductEntity } from './persistence/product.entity';
import { ProductRepository } from './persistence/product.repository';

@Module({
  imports: [
    CqrsModule,
    FicusModule.forContext({
      context: 'catalog',
      settings: [DemoSeedSettings],
      entities: [ProductEntity],
      migrations: [CreateProducts1764000000100],
      serves: [CatalogContract, CatalogContractAdapter],
    }),
  ],
  providers: [ProductRepository, ListProductsHandler, GetProductsHandler, CatalogContractAdapter, SeedDemoCatalogue],
})
export class CatalogModule {}
