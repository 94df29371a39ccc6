import { DataSource } from 'typeorm';
import { z } from 'zod';
import { defineContract, serverStream, unary, type CallContext, type ContractApi } from '@contracts/kernel';
import { ContractBus, DEFAULT_CONSUMER_RETRY, InProcessEventTransport } from '@infra/messaging';
import { ContextRuntime } from '@infra/runtime';
import { withDatabase } from '@infra/persistence';
import { freshDatabase } from '../support/test-database';

/** Two contexts made for this test: x notes a line in its own table, y passes a note on to x. */
const XContract = defineContract('x', 'x.v1.X', {
  note: unary(
    z.object({ text: z.string() }),
    z.object({ joinedCallersTransaction: z.boolean(), uncommittedSeen: z.number() }),
    { idempotent: false, access: { anyone: true } },
  ),
  steps: serverStream(z.object({}), z.object({ inCallersTransaction: z.boolean() }), { access: { anyone: true } }),
});
const YContract = defineContract('y', 'y.v1.Y', {
  passOn: unary(
    z.object({ text: z.string() }),
    z.object({ joinedCallersTransaction: z.boolean(), uncommittedSeen: z.number() }),
    { idempotent: false, access: { anyone: true } },
  ),
});

const ctx = (): CallContext => ({ deadline: Date.now() + 10_000, correlationId: 'correlation-1' });

/**
 * A contract call served in one process is a unit of work of its own, as it is behind gRPC: in a
 * cycle (x, in a transaction, calls y, which calls x back) the inner call must not join x's open
 * transaction, see its uncommitted rows, or be rolled back with it. Otherwise the same code would
 * commit split and vanish in the monolith. A real PostgreSQL; the contexts wired by ContextRuntime.
 */
describe('a contract call served in one process', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dataSource: DataSource;
  let x: ContextRuntime;
  let xClient: ContractApi<typeof XContract>;
  let yClient: ContractApi<typeof YContract>;
  /** Whether each stream's clean-up (its `finally`) found the caller's transaction. */
  const cleanUpsInCallersTransaction: boolean[] = [];

  beforeAll(async () => {
    database = await freshDatabase('apart');
    const url = withDatabase(database.config.adminUrl, database.config.database);
    dataSource = new DataSource({ type: 'postgres', url, extra: { pipeline: true, max: 6 } });
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE notes (text text NOT NULL)');

    const bus = new ContractBus();
    const runtime = (context: string) =>
      new ContextRuntime({
        context,
        dataSource,
        connectionUrl: 'postgres://unused',
        outbox: { table: 'outbox' },
        bus,
        events: new InProcessEventTransport(),
        retry: DEFAULT_CONSUMER_RETRY,
      });
    x = runtime('x');
    const y = runtime('y');
    xClient = bus.client(XContract);
    yClient = bus.client(YContract);
    x.serve(XContract, {
      note: async (_ctx, { text }) => {
        const joinedCallersTransaction = x.uow.inTransaction;
        return x.uow.transaction(async (manager) => {
          await manager.query('INSERT INTO notes (text) VALUES ($1)', [text]);
          const [{ n }] = await manager.query<Array<{ n: number }>>(
            "SELECT count(*)::int AS n FROM notes WHERE text = 'uncommitted'",
          );
          return { joinedCallersTransaction, uncommittedSeen: n };
        });
      },
      steps: async function* () {
        try {
          yield { inCallersTransaction: x.uow.inTransaction };
          await dataSource.query('SELECT 1'); // resumed after an await, as a real stream is
          yield { inCallersTransaction: x.uow.inTransaction };
        } finally {
          cleanUpsInCallersTransaction.push(x.uow.inTransaction);
        }
      },
    });
    y.serve(YContract, { passOn: (callContext, request) => xClient.note(callContext, request) });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('x calling y calling x: the inner call neither joins nor sees x’s open transaction, and commits on its own', async () => {
    let answer: unknown;
    await expect(
      x.uow.transaction(async (manager) => {
        await manager.query("INSERT INTO notes (text) VALUES ('uncommitted')");
        answer = await yClient.passOn(ctx(), { text: 'inner' });
        throw new Error('x changes its mind');
      }),
    ).rejects.toThrow('x changes its mind');

    expect(answer).toEqual({ joinedCallersTransaction: false, uncommittedSeen: 0 });
    const notes = await dataSource.query<Array<{ text: string }>>('SELECT text FROM notes');
    expect(notes.map((note) => note.text)).toEqual(['inner']);
  });

  it('a stream served to a caller inside a transaction runs every step and its clean-up apart from it', async () => {
    cleanUpsInCallersTransaction.length = 0;
    const steps: unknown[] = [];
    await x.uow.transaction(async () => {
      for await (const step of xClient.steps(ctx(), {})) steps.push(step);
    });
    expect(steps).toEqual([{ inCallersTransaction: false }, { inCallersTransaction: false }]);
    expect(cleanUpsInCallersTransaction).toEqual([false]);
  });

  it('a stream its caller stops early cleans up apart from the caller’s transaction too', async () => {
    cleanUpsInCallersTransaction.length = 0;
    await x.uow.transaction(async () => {
      for await (const step of xClient.steps(ctx(), {})) {
        expect(step).toEqual({ inCallersTransaction: false });
        break;
      }
    });
    expect(cleanUpsInCallersTransaction).toEqual([false]);
  });
});
