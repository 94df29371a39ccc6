import { Injectable } from '@nestjs/common';
import { EventEmitter, on } from 'node:events';
import type { StockOnHand } from '../domain/reservation';

export interface StockChange extends StockOnHand {
  readonly changedAt: string;
}

/**
 * Stock changes as they commit in this process, for WatchStock. A change is announced only after
 * its transaction committed, so a watcher never sees stock that was rolled back.
 */
@Injectable()
export class StockChanges {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  announce(levels: readonly StockOnHand[]): void {
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
