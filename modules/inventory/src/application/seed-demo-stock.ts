import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DemoSeedSettings, type DemoSeed } from '@infra/config';
import { UnitOfWork } from '@infra/persistence';
import { DEMO_STOCK } from '../domain/reservation';
import { StockRepository } from '../persistence/stock.repository';

/** First start of an empty inventory: seeds stock for the demo catalogue (FICUS_DEMO_SEED=false skips it). */
@Injectable()
export class SeedDemoStock implements OnApplicationBootstrap {
  private readonly logger = new Logger('SeedDemoStock');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly stock: StockRepository,
    @Inject(DemoSeedSettings.token) private readonly demo: DemoSeed,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.demo.seed) return;
    await this.uow.transaction(async () => {
      if (await this.stock.isEmpty()) {
        await this.stock.save(DEMO_STOCK);
        this.logger.log(`seeded stock for ${DEMO_STOCK.length} demo skus`);
      }
    });
  }
}
