import type { Pool, PoolClient, QueryResult } from 'pg';

/**
 * What code runs SQL through: the open transaction, or the context's pool outside one. `query`
 * answers as TypeORM's `EntityManager.query` does, so repositories read the same either way: the
 * rows, except for UPDATE and DELETE, which answer `[rows, rowCount]`.
 */
export interface SqlExecutor {
  // The shape of rows is the caller's to state: each repository casts to its row type.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query<T = any>(sql: string, params?: readonly unknown[]): Promise<T>;
}

/** What becomes of a deferred statement's failure. */
export interface DeferredOptions {
  /** Turns the statement's failure into the error the transaction fails with (a version conflict). */
  readonly onError?: (error: unknown) => unknown;
}

/** A statement sent in a pipeline, with what became of it. */
interface Sent {
  readonly result: Promise<QueryResult>;
  readonly options?: DeferredOptions;
}

/**
 * One database transaction on one pooled connection in pg's pipeline mode (node-postgres sends a
 * statement without waiting for the answer to the one before). On these machines a round trip to
 * PostgreSQL costs about a third of a millisecond and, in system calls, more CPU than the statement
 * itself, so a transaction sends as few as it can:
 *
 * - BEGIN is not sent on its own: it leaves with the first statement.
 * - Statements whose answers nobody waits for (`defer`: an outbox row, a read model's update)
 *   wait and leave with the next statement, or with the COMMIT.
 * - Statements issued in the same tick (`Promise.all([lock, load])`) leave in one write.
 *
 * PostgreSQL runs pipelined statements one after the other, in order, each with the snapshot of
 * its own start, so a lock followed by a read sees what the lock waited for. The answers come back
 * in that order too, and a statement's answer is handed back only once everything sent before it
 * has succeeded. After a failure the server refuses the rest of the transaction; the first failure
 * is the one reported.
 */
export class PipelinedTransaction implements SqlExecutor {
  private begun = false;
  private finished = false;
  private readonly deferred: Array<{ sql: string; params?: readonly unknown[]; options?: DeferredOptions }> = [];
  private failure?: { error: unknown };
  private corked = false;
  private readonly afterCommit: Array<() => void> = [];

  constructor(private readonly client: PoolClient) {}

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async query<T = any>(sql: string, params?: readonly unknown[]): Promise<T> {
    this.assertOpen();
    const earlier = this.sendPending();
    const sent = this.send(sql, params);
    await this.settle(earlier);
    try {
      return shapeOf(await sent.result) as T;
    } catch (error) {
      throw this.fail(error);
    }
  }

  /**
   * Queues a statement whose answer nobody waits for; it leaves with the next statement or the
   * COMMIT, in the same round trip. Should it fail, the transaction fails with its error (or
   * `options.onError`'s).
   */
  defer(sql: string, params?: readonly unknown[], options?: DeferredOptions): void {
    this.assertOpen();
    this.deferred.push({ sql, params, options });
  }

  /** Runs `callback` once the transaction has committed; never after a rollback. */
  onCommit(callback: () => void): void {
    this.afterCommit.push(callback);
  }

  async commit(): Promise<void> {
    this.assertOpen();
    this.finished = true;
    if (!this.begun && this.deferred.length === 0) return; // nothing was written: nothing to end
    const earlier = this.sendPending();
    const committed = this.send('COMMIT');
    await this.settle(earlier);
    let result: QueryResult;
    try {
      result = await committed.result;
    } catch (error) {
      throw this.fail(error);
    }
    // COMMIT of a transaction that failed earlier answers ROLLBACK.
    if (result.command !== 'COMMIT') throw this.fail(new Error('the transaction was rolled back'));
    for (const callback of this.afterCommit) callback();
  }

  async rollback(): Promise<void> {
    if (this.finished && !this.begun) return;
    this.finished = true;
    this.deferred.length = 0;
    if (!this.begun) return;
    await this.client.query('ROLLBACK');
  }

  /** BEGIN if not yet sent, and every deferred statement: what must precede the next statement. */
  private sendPending(): Sent[] {
    const sent: Sent[] = [];
    if (!this.begun) {
      this.begun = true;
      sent.push(this.send('BEGIN'));
    }
    for (const { sql, params, options } of this.deferred.splice(0)) sent.push(this.send(sql, params, options));
    return sent;
  }

  /** Hands one statement to pg, which writes it at once; statements of the same tick share a write. */
  private send(sql: string, params?: readonly unknown[], options?: DeferredOptions): Sent {
    const stream = (this.client as unknown as { connection: { stream: { cork(): void; uncork(): void } } }).connection
      .stream;
    if (!this.corked) {
      this.corked = true;
      stream.cork();
      queueMicrotask(() => {
        this.corked = false;
        stream.uncork();
      });
    }
    // The text and values as arguments and a callback: pg copies a config object (property
    // descriptors and all) and wraps its own promise twice, a few microseconds a statement.
    const result = new Promise<QueryResult>((resolve, reject) =>
      this.client.query(sql, (params ?? []) as unknown[], (error: Error | null, answer: QueryResult) =>
        error ? reject(error) : resolve(answer),
      ),
    );
    result.catch(() => undefined); // observed in settle() or by the caller; never unhandled
    return { result, options };
  }

  /** Waits for statements sent before; throws the first failure among them. */
  private async settle(sent: Sent[]): Promise<void> {
    for (const { result, options } of sent) {
      try {
        await result;
      } catch (error) {
        throw this.fail(options?.onError ? options.onError(error) : error);
      }
    }
  }

  /**
   * The transaction's first failure: what later statements fail with is only its echo. Its stack
   * is made the caller's (the awaits that led here), as node-postgres's promise form does: an
   * error from the socket otherwise tells only of pg's parser.
   */
  private fail(error: unknown): unknown {
    if (!this.failure && error instanceof Error) Error.captureStackTrace(error);
    this.failure ??= { error };
    return this.failure.error;
  }

  private assertOpen(): void {
    if (this.finished) throw new Error('the transaction has ended: no statement can join it');
  }
}

/**
 * Runs `work` in a pipelined transaction on a connection of `pool`: commits when it resolves,
 * rolls back when it throws. A connection that failed (reset, server gone) is destroyed, never
 * handed out again; its 'error' event, which node-postgres emits on a checked-out client, is
 * taken here instead of crashing the process.
 */
export async function inPipelinedTransaction<T>(
  pool: Pool,
  work: (transaction: PipelinedTransaction) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
  };
  client.on('error', onError);
  const transaction = new PipelinedTransaction(client);
  try {
    const result = await work(transaction);
    await transaction.commit();
    return result;
  } catch (error) {
    await transaction.rollback().catch((rollbackError: unknown) => {
      broken ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** Single statements outside any transaction, each on a connection of the pool. */
export class PoolExecutor implements SqlExecutor {
  constructor(private readonly pool: () => Pool) {}

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async query<T = any>(sql: string, params?: readonly unknown[]): Promise<T> {
    return shapeOf(await this.pool().query(sql, params as unknown[] | undefined)) as T;
  }
}

/** A result as TypeORM's `query` answers it: rows, or `[rows, rowCount]` for UPDATE and DELETE. */
function shapeOf(result: QueryResult): unknown {
  return result.command === 'UPDATE' || result.command === 'DELETE' ? [result.rows, result.rowCount] : result.rows;
}
