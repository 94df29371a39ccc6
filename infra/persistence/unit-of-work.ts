import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { inChildSpan, SpanKind } from '@infra/observability';
import {
  inPipelinedTransaction,
  PoolExecutor,
  type DeferredOptions,
  type PipelinedTransaction,
  type SqlExecutor,
} from './sql-session';

/**
 * One bounded context's transaction scope. Code inside `transaction()` (a command handler, an
 * event handler and the outbox writes it makes) shares one database transaction without passing
 * it around; code outside gets single statements on the pool. Transactions are pipelined
 * (PipelinedTransaction): BEGIN leaves with the first statement, `defer`red writes with the next
 * one or with the COMMIT.
 */
export class UnitOfWork {
  /** Undefined inside `apart`: no transaction of this context there, whatever the caller has open. */
  private readonly current = new AsyncLocalStorage<PipelinedTransaction | undefined>();
  private readonly outside: PoolExecutor;

  constructor(
    readonly context: string,
    readonly dataSource: DataSource,
  ) {
    this.outside = new PoolExecutor(() => poolOf(dataSource));
  }

  /** The open transaction, or single statements on the pool outside one. */
  get manager(): SqlExecutor {
    return this.current.getStore() ?? this.outside;
  }

  get inTransaction(): boolean {
    return this.current.getStore() !== undefined;
  }

  /**
   * A write whose answer nobody reads. Inside a transaction it is queued and travels with the
   * transaction's next statement, or with its COMMIT; should it fail, the transaction fails with
   * its error (or `options.onError`'s). Outside a transaction it runs at once.
   */
  async defer(sql: string, params?: readonly unknown[], options: DeferredOptions = {}): Promise<void> {
    const open = this.current.getStore();
    if (open) {
      open.defer(sql, params, options);
      return;
    }
    try {
      await this.outside.query(sql, params);
    } catch (error) {
      throw options.onError ? options.onError(error) : error;
    }
  }

  /** Runs `callback` after the open transaction commits (never after a rollback). */
  afterCommit(callback: () => void): void {
    this.open('wait for a commit').onCommit(callback);
  }

  /**
   * Runs `work` apart from a transaction of this context that its caller has open: a contract call
   * served to another context is a unit of work of its own, in one process as behind gRPC
   * (ContextRuntime.serve). Only an open transaction costs anything (a `run` with no store:
   * stable API, unlike the experimental `exit`).
   */
  apart<T>(work: () => T): T {
    return this.current.getStore() === undefined ? work() : this.current.run(undefined, work);
  }

  /** Runs `work` in a transaction, or inside the one already open. */
  async transaction<T>(work: (manager: SqlExecutor) => Promise<T>): Promise<T> {
    const open = this.current.getStore();
    if (open) {
      return work(open);
    }
    return inChildSpan(
      `transaction ${this.context}`,
      SpanKind.CLIENT,
      { 'db.system.name': 'postgresql', 'ficus.context': this.context },
      () =>
        inPipelinedTransaction(poolOf(this.dataSource), (transaction) =>
          this.current.run(transaction, () => work(transaction)),
        ),
    );
  }

  private open(what: string): PipelinedTransaction {
    const open = this.current.getStore();
    if (!open) throw new Error(`${this.context}: cannot ${what} outside a transaction`);
    return open;
  }
}

/** The pg Pool behind a TypeORM DataSource (its PostgreSQL driver keeps it as `master`). */
export function poolOf(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!dataSource.isInitialized || !pool) throw new Error('the data source is not open');
  return pool;
}
