import { Injectable } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { InventoryApi, StockLine, StockUpdate } from '@contracts/inventory';
import type { CallContext, EventOrigin } from '@contracts/kernel';
import { CheckStockQuery } from './check-stock/check-stock.query';
import { ReleaseStockCommand } from './release-stock/release-stock.command';
import { ReserveStockCommand } from './reserve-stock/reserve-stock.command';
import { RestockCommand } from './restock/restock.command';
import { StockChanges } from './stock-changes';

function originOf(ctx: CallContext): EventOrigin {
  return { correlationId: ctx.correlationId, causationId: ctx.causationId, traceparent: ctx.traceparent };
}

@Injectable()
export class InventoryContractAdapter implements InventoryApi {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly changes: StockChanges,
  ) {}

  async checkStock(_ctx: CallContext, request: { skus: string[] }) {
    return { levels: await this.queries.execute(new CheckStockQuery(request.skus)) };
  }

  reserveStock(ctx: CallContext, request: { orderId: string; items: StockLine[] }) {
    return this.commands.execute(new ReserveStockCommand(request.orderId, request.items, originOf(ctx)));
  }

  releaseStock(ctx: CallContext, request: { orderId: string; reason: string }) {
    return this.commands.execute(new ReleaseStockCommand(request.orderId, request.reason, originOf(ctx)));
  }

  restock(_ctx: CallContext, request: { sku: string; quantity: number }) {
    return this.commands.execute(new RestockCommand(request.sku, request.quantity));
  }

  /**
   * The current level of each sku first, then every committed change, until the deadline or until
   * the caller goes away (its signal aborts): a watch nobody reads must not wait on.
   */
  async *watchStock(ctx: CallContext, request: { skus: string[] }): AsyncIterable<StockUpdate> {
    const skus = new Set(request.skus);
    const stop = new AbortController();
    const stopNow = () => stop.abort();
    const timer = setTimeout(stopNow, Math.max(0, ctx.deadline - Date.now()));
    ctx.signal?.addEventListener('abort', stopNow, { once: true });
    const changes = this.changes.watch(skus, stop.signal);
    try {
      const now = new Date().toISOString();
      for (const level of await this.queries.execute(new CheckStockQuery(request.skus))) {
        yield { ...level, changedAt: now };
      }
      yield* changes;
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', stopNow);
      stop.abort();
    }
  }
}
