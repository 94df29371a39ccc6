import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ScrapedGauge, type Observation } from '@infra/observability';
import type { OrderStatus } from '../../domain/order';
import { OrderHistoryProjection } from '../../persistence/order-history.projection';

const STATUSES: readonly OrderStatus[] = ['PENDING', 'CONFIRMED', 'FAILED'];

/** Declared here, not in infra: orders and their statuses are ordering's words. */
const orders = new ScrapedGauge({
  name: 'ficus_orders',
  help: 'Orders per saga state (PENDING, CONFIRMED, FAILED), read from the order-history read model',
  labelNames: ['status'],
});

/**
 * The saga funnel at /metrics: how many orders are pending, confirmed and failed, counted in the
 * read model when Prometheus scrapes. Every status is reported, 0 included, so that a graph of
 * failures starts at zero instead of appearing with the first one.
 */
@Injectable()
export class OrdersByStatusGauge implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private observation?: Observation;

  constructor(private readonly history: OrderHistoryProjection) {}

  onApplicationBootstrap(): void {
    this.observation = orders.observe(async () => {
      const counts = await this.history.countByStatus();
      return STATUSES.map((status) => ({ labels: { status }, value: counts[status] ?? 0 }));
    });
  }

  beforeApplicationShutdown(): void {
    this.observation?.forget();
  }
}
