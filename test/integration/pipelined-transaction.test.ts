import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { Pool } from 'pg';
import { inPipelinedTransaction } from '@infra/persistence';
import { FaultProxy } from '../support/fault-proxy';
import { freshDatabase } from '../support/test-database';
import { eventually } from '../support/eventually';

/**
 * PipelinedTransaction (ADR 0036) on a real PostgreSQL in node-postgres's pipeline mode: what a
 * transaction sends together, what it reports when a statement fails, and what becomes of the
 * connection when the server goes away in the middle.
 */
describe('pipelined transactions', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let pool: Pool;
  const url = () => {
    const tcp = new URL(database.config.adminUrl);
    tcp.pathname = `/${database.config.database}`;
    return tcp;
  };

  beforeAll(async () => {
    database = await freshDatabase('pipelined');
    pool = new Pool({ connectionString: url().toString(), max: 4, pipeline: true } as never);
    await pool.query('CREATE TABLE notes (id serial PRIMARY KEY, text text NOT NULL UNIQUE)');
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });
  beforeEach(() => pool.query('TRUNCATE notes'));

  /** Writes handed to the operating system while `work` runs, on every socket of the process. */
  async function writesDuring(work: () => Promise<unknown>): Promise<number> {
    let writes = 0;
    const socket = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    const originals = { _write: socket._write, _writev: socket._writev };
    for (const name of ['_write', '_writev'] as const) {
      socket[name] = function (this: unknown, ...args: unknown[]) {
        writes += 1;
        return originals[name].apply(this, args);
      };
    }
    try {
      await work();
    } finally {
      Object.assign(socket, originals);
    }
    return writes;
  }

  it('deferred writes travel with the next statement and the COMMIT; BEGIN with the first statement', async () => {
    // Warm a connection up first: connecting writes too.
    await inPipelinedTransaction(pool, (tx) => tx.query('SELECT 1'));
    const writes = await writesDuring(() =>
      inPipelinedTransaction(pool, async (tx) => {
        tx.defer('INSERT INTO notes (text) VALUES ($1)', ['a']);
        const [{ n }] = await tx.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM notes'); // BEGIN + insert + select
        expect(n).toBe(1); // the deferred insert ran before the select that followed it
        tx.defer('INSERT INTO notes (text) VALUES ($1)', ['b']); // leaves with the COMMIT
      }),
    );
    // Two writes: BEGIN, the first insert and the select; then the second insert and the COMMIT.
    expect(writes).toBe(2);
    expect((await pool.query('SELECT text FROM notes ORDER BY id')).rows.map((r) => r.text)).toEqual(['a', 'b']);
  });

  it('statements issued together are answered in order, each with its own result', async () => {
    await inPipelinedTransaction(pool, async (tx) => {
      const [one, two, updated] = await Promise.all([
        tx.query<Array<{ x: number }>>('SELECT 1 AS x'),
        tx.query<Array<{ x: number }>>('SELECT 2 AS x'),
        tx.query<[unknown[], number]>('UPDATE notes SET text = text WHERE false'),
      ]);
      expect([one[0].x, two[0].x]).toEqual([1, 2]);
      expect(updated[1]).toBe(0); // UPDATE answers [rows, rowCount], as TypeORM's query does
    });
  });

  it("a deferred write's failure fails the transaction with its own error, and nothing commits", async () => {
    await pool.query("INSERT INTO notes (text) VALUES ('taken')");
    const committed: string[] = [];
    const attempt = inPipelinedTransaction(pool, async (tx) => {
      tx.defer('INSERT INTO notes (text) VALUES ($1)', ['fresh']);
      tx.defer('INSERT INTO notes (text) VALUES ($1)', ['taken']); // violates the unique key
      tx.onCommit(() => committed.push('ran'));
      await tx.query('SELECT 1'); // answered "transaction aborted"; the cause is the insert
    });
    await expect(attempt).rejects.toMatchObject({ code: '23505' });
    expect(committed).toEqual([]);
    expect((await pool.query('SELECT text FROM notes ORDER BY id')).rows.map((r) => r.text)).toEqual(['taken']);
  });

  it("a failed statement's error tells where it was awaited, not only pg's parser", async () => {
    await pool.query("INSERT INTO notes (text) VALUES ('taken')");
    const failing = async function insertTakenNote() {
      await inPipelinedTransaction(pool, (tx) => tx.query('INSERT INTO notes (text) VALUES ($1)', ['taken']));
    };
    const error = (await failing().catch((caught: unknown) => caught)) as Error & { code?: string };
    expect(error.code).toBe('23505');
    expect(error.stack).toContain('insertTakenNote');
  });

  it("a deferred write's failure can be turned into the caller's own error (an event store's version conflict)", async () => {
    await pool.query("INSERT INTO notes (text) VALUES ('v1')");
    class Conflict extends Error {}
    const attempt = inPipelinedTransaction(pool, async (tx) => {
      tx.defer('INSERT INTO notes (text) VALUES ($1)', ['v1'], {
        onError: (error) => ((error as { code?: string }).code === '23505' ? new Conflict('lost the race') : error),
      });
    });
    await expect(attempt).rejects.toBeInstanceOf(Conflict);
  });

  it('a failure at COMMIT time (a deferred write) is reported, and after-commit work does not run', async () => {
    await pool.query("INSERT INTO notes (text) VALUES ('taken')");
    const committed: string[] = [];
    const attempt = inPipelinedTransaction(pool, async (tx) => {
      tx.defer('INSERT INTO notes (text) VALUES ($1)', ['taken']);
      tx.onCommit(() => committed.push('ran'));
    });
    await expect(attempt).rejects.toMatchObject({ code: '23505' });
    expect(committed).toEqual([]);
  });

  it('after-commit work runs once the COMMIT is answered', async () => {
    const seen: number[] = [];
    await inPipelinedTransaction(pool, async (tx) => {
      tx.defer('INSERT INTO notes (text) VALUES ($1)', ['x']);
      tx.onCommit(() => seen.push(1));
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual([1]);
  });

  it('connections reset in the middle of transactions: callers get errors, the pool heals, the process does not crash', async () => {
    const direct = url();
    direct.searchParams.delete('host'); // the proxy is on the TCP path
    const proxy = await FaultProxy.start({ host: '127.0.0.1', port: Number(direct.port) });
    const through = new URL(direct);
    through.port = String(proxy.port);
    const proxied = new Pool({ connectionString: through.toString(), max: 4, pipeline: true } as never);
    proxied.on('error', () => undefined); // idle clients cut by the reset
    let committed = 0;
    let failed = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          const tag = randomUUID();
          await inPipelinedTransaction(proxied, async (tx) => {
            tx.defer('INSERT INTO notes (text) VALUES ($1)', [`${tag}/1`]);
            await tx.query('SELECT count(*) FROM notes');
            tx.defer('INSERT INTO notes (text) VALUES ($1)', [`${tag}/2`]);
          });
          committed += 1;
        } catch {
          failed += 1;
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    try {
      for (let reset = 0; reset < 4; reset++) {
        const before = committed;
        await eventually(() => committed, {
          until: (n) => n >= before + 20,
          timeoutMs: 20_000,
          what: 'transactions commit again',
        });
        proxy.resetAll();
      }
      const afterResets = committed;
      await eventually(() => committed, {
        until: (n) => n >= afterResets + 20,
        timeoutMs: 20_000,
        what: 'the pool heals after the last reset',
      });
    } finally {
      stop = true;
      await Promise.all(workers);
      await proxied.end();
      await proxy.close();
    }
    expect(failed).toBeGreaterThan(0); // the resets did hit transactions under way
    // No transaction left half of its rows. Every one its caller saw commit is there; a reset
    // between the server's COMMIT and its answer may add one the caller saw fail (outcome unknown).
    const groups = (
      await pool.query("SELECT split_part(text, '/', 1) AS tag, count(*)::int AS n FROM notes GROUP BY 1")
    ).rows as Array<{ n: number }>;
    expect(groups.filter((group) => group.n !== 2)).toEqual([]);
    expect(groups.length).toBeGreaterThanOrEqual(committed);
    expect(groups.length).toBeLessThanOrEqual(committed + failed);
  });
});
