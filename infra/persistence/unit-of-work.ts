import { AsyncLocalStorage } from 'node:async_hooks';
import { inChildSpan, SpanKind } from '@infra/observability';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * One bounded context's transaction scope. Code inside `transaction()` (a command handler, an
 * event handler and the outbox writes it makes) shares one database transaction without passing
 * a manager around; code outside gets the plain manager.
 */
export class UnitOfWork {
  private readonly current = new AsyncLocalStorage<EntityManager>();

  constructor(
    readonly context: string,
    readonly dataSource: DataSource,
  ) {}

  get manager(): EntityManager {
    return this.current.getStore() ?? this.dataSource.manager;
  }

  get inTransaction(): boolean {
    return this.current.getStore() !== undefined;
  }

  /** Runs `work` in a transaction, or inside the one already open. */
  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const open = this.current.getStore();
    if (open) {
      return work(open);
    }
    return inChildSpan(`transaction ${this.context}`, SpanKind.CLIENT, { 'db.system.name': 'postgresql', 'ficus.context': this.context }, () =>
      this.dataSource.transaction((manager) => this.current.run(manager, () => work(manager))),
    );
  }
}
