import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DemoSeedSettings, type DemoSeed } from '@infra/config';
import { DEMO_CATALOGUE } from '../domain/product';
import { ProductRepository } from '../persistence/product.repository';

/** First start of an empty catalogue: seeds the demo products (FICUS_DEMO_SEED=false skips it). */
@Injectable()
export class SeedDemoCatalogue implements OnApplicationBootstrap {
  private readonly logger = new Logger('SeedDemoCatalogue');

  constructor(
    private readonly products: ProductRepository,
    @Inject(DemoSeedSettings.token) private readonly demo: DemoSeed,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.demo.seed || (await this.products.count()) > 0) {
      return;
    }
    await this.products.insertMissing(DEMO_CATALOGUE);
    this.logger.log(`seeded ${DEMO_CATALOGUE.length} demo products`);
  }
}
