import { Injectable } from '@nestjs/common';
import { EventEmitter, on } from 'node:events';
import { UnitOfWork } from '@infra/persistence';
import type { StockOnHand } from '../domain/reservation';

export interface StockChange extends StockOnHand {
  readonly changedAt: string;
}

/**
 * Stock changes as they commit in this process, for WatchStock. A change is announced only once
 * the transaction open where it is announced has committed (never for a rollback), so a watcher
 * never sees stock that was rolled back: whether the handler's own transaction or one it joined
 * (a saga step runs inside its inbox transaction, where the handler's `transaction()` returns
 * before anything commits).
 */
@Injectable()
export class StockChanges {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  constructor(private readonly uow: UnitOfWork) {}

  announce(levels: readonly StockOnHand[]): void {
    if (levels.length === 0) return;
    if (this.uow.inTransaction) this.uow.afterCommit(() => this.emit(levels));
    else this.emit(levels);
  }

  private emit(levels: readonly StockOnHand[]): void {
    const changedAt = new Date().toISOString();
    for (const level of levels) {
      this.emitter.emit('change', { ...level, changedAt } satisfies StockChange);
    }
  }

  /** Subscribes at once (before the caller reads current levels), yields matching changes. */
  watch(skus: ReadonlySet<string>, signal: AbortSignal): AsyncIterable<StockChange> {
    const source = on(this.emitter, 'change', { signal }) as AsyncIterableIterator<[StockChange]>;
    return (async function* () {
      try {
        for await (const [change] of source) {
          if (skus.has(change.sku)) yield change;
        }
      } catch (error) {
        if ((error as { name?: string }).name !== 'AbortError') throw error;
      }
    })();
  }
}
