import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Envelope } from '@contracts/kernel';
import { InProcessEventTransport, Outbox, OutboxDispatcher, OutboxRelay, type EventPublisher } from '@infra/messaging';
import { OUTBOX_COLUMNS_SQL, UnitOfWork, withDatabase } from '@infra/persistence';
import { eventually } from '../support/eventually';
import { freshDatabase } from '../support/test-database';

/**
 * The path of an event in one process (ADR 0035): committed into the outbox, handed to the
 * subscribers right after the commit by the OutboxDispatcher, marked sent; and what the relay
 * does with what the dispatcher could not deliver. A real PostgreSQL, a scratch outbox table.
 */
describe('the outbox dispatcher', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await freshDatabase('dispatcher');
    const url = withDatabase(database.config.adminUrl, database.config.database);
    dataSource = new DataSource({ type: 'postgres', url, extra: { pipeline: true, max: 6 } });
    await dataSource.initialize();
    await dataSource.query(`CREATE TABLE outbox (${OUTBOX_COLUMNS_SQL})`);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  /** A context's outbox wired as ContextRuntime wires it, around `local` (and `remote`). */
  function context(options: { local?: EventPublisher; remote?: EventPublisher; maxInFlight?: number } = {}) {
    const local = options.local ?? new InProcessEventTransport();
    const uow = new UnitOfWork('scratch', dataSource);
    const relay: OutboxRelay = new OutboxRelay({
      context: 'scratch',
      dataSource,
      listenUrl: 'postgres://unused',
      table: 'outbox',
      publisher: local,
      inFlight: () => dispatcher.inFlight(),
    });
    const dispatcher = new OutboxDispatcher({
      context: 'scratch',
      table: 'outbox',
      dataSource,
      local,
      remote: options.remote,
      maxInFlight: options.maxInFlight,
      leftToRelay: () => relay.wake(),
    });
    const outbox = new Outbox(uow, { onCommitted: (envelopes) => dispatcher.committed(envelopes) });
    return { uow, outbox, dispatcher, relay };
  }

  const event = (aggregateId: string, n: number): Envelope => ({
    id: randomUUID(),
    type: 'scratch.ticked',
    version: 1,
    occurredAt: new Date().toISOString(),
    aggregateId,
    correlationId: aggregateId,
    payload: { n },
  });

  const unsent = async (ids: readonly string[]) =>
    (
      (await dataSource.query('SELECT message_id FROM outbox WHERE published_at IS NULL AND message_id = ANY($1)', [
        ids,
      ])) as unknown[]
    ).length;

  /** A subscriber that notes what it gets, in order. */
  function recorder(events: InProcessEventTransport, deliver?: (envelope: Envelope) => Promise<void>) {
    const seen: Envelope[] = [];
    events.subscribe({
      consumer: `test:${randomUUID()}`,
      eventKey: 'scratch.ticked.v1',
      deliver: async (envelope) => {
        await deliver?.(envelope);
        seen.push(envelope);
      },
    });
    return seen;
  }

  it('delivers what a transaction committed, after the commit, and marks it sent; nothing of a rollback', async () => {
    const events = new InProcessEventTransport();
    const seen = recorder(events);
    const { uow, outbox, dispatcher } = context({ local: events });
    const kept = event(randomUUID(), 1);
    const dropped = event(randomUUID(), 2);
    await uow.transaction(async () => {
      await outbox.add(kept);
      expect(seen).toEqual([]); // not before the commit
    });
    await expect(
      uow.transaction(async () => {
        await outbox.add(dropped);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await dispatcher.settle();
    expect(seen.map((e) => e.id)).toEqual([kept.id]);
    expect(await unsent([kept.id])).toBe(0);
    expect(
      ((await dataSource.query('SELECT 1 FROM outbox WHERE message_id = $1', [dropped.id])) as unknown[]).length,
    ).toBe(0);
  });

  it('hands events over in a context of their own: a subscriber joins no transaction open, or ended, around the commit', async () => {
    // As in one process when a handler of context A calls B (A's transaction open) and B's commit
    // hands its event to A's consumer: that consumer must open a transaction of its own, as it does
    // when the event comes from a broker. Nor may it find B's ended transaction and fail on it.
    const events = new InProcessEventTransport();
    const { uow, outbox, dispatcher } = context({ local: events });
    const caller = new UnitOfWork('caller', dataSource);
    const found: Array<{ callers: boolean; own: boolean }> = [];
    recorder(events, async () => {
      found.push({ callers: caller.inTransaction, own: uow.inTransaction });
      await caller.transaction((manager) => manager.query('SELECT 1'));
      await uow.transaction((manager) => manager.query('SELECT 1'));
    });
    await caller.transaction(async (manager) => {
      await manager.query('SELECT 1');
      await uow.transaction(() => outbox.add(event(randomUUID(), 1)));
      // delivered while the caller's transaction is still open
      await eventually(() => found, { until: (delivered) => delivered.length === 1 });
    });
    await dispatcher.settle();
    expect(found).toEqual([{ callers: false, own: false }]);
  });

  it('relays in a context of its own too: a subscriber joins no transaction of the code that asked the relay', async () => {
    const events = new InProcessEventTransport();
    const { uow, outbox, relay } = context({ local: events, maxInFlight: 0 }); // all left to the relay
    const caller = new UnitOfWork('caller', dataSource);
    const found: boolean[] = [];
    recorder(events, async () => {
      found.push(caller.inTransaction);
      await caller.transaction((manager) => manager.query('SELECT 1'));
    });
    await caller.transaction(async (manager) => {
      await manager.query('SELECT 1');
      await uow.transaction(() => outbox.add(event(randomUUID(), 1)));
      await relay.flush();
    });
    expect(found).toEqual([false]);
  });

  it("keeps one aggregate's events in commit order while others overtake them", async () => {
    const events = new InProcessEventTransport();
    const slowAggregate = randomUUID();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen = recorder(events, async (envelope) => {
      if (envelope.aggregateId === slowAggregate && (envelope.payload as { n: number }).n === 1) await gate;
    });
    const { uow, outbox, dispatcher } = context({ local: events });
    const first = event(slowAggregate, 1);
    const second = event(slowAggregate, 2);
    const other = event(randomUUID(), 3);
    for (const envelope of [first, second, other]) await uow.transaction(() => outbox.add(envelope));
    await eventually(() => seen.map((e) => e.id), {
      until: (ids) => ids.includes(other.id),
      what: 'the other aggregate overtakes',
    });
    expect(seen.map((e) => e.id)).toEqual([other.id]); // the slow aggregate's second waits for its first
    release();
    await dispatcher.settle();
    expect(seen.map((e) => e.id)).toEqual([other.id, first.id, second.id]);
  });

  it("leaves a failed delivery unmarked, out of the relay's way only while it is under way; the relay sends it again", async () => {
    const events = new InProcessEventTransport();
    let failures = 1;
    const seen = recorder(events, async () => {
      if (failures-- > 0) throw new Error('database down for a moment');
    });
    const { uow, outbox, dispatcher, relay } = context({ local: events });
    const envelope = event(randomUUID(), 1);
    await uow.transaction(() => outbox.add(envelope));
    await dispatcher.settle();
    expect(seen).toEqual([]);
    expect(await unsent([envelope.id])).toBe(1);
    await relay.flush();
    expect(seen.map((e) => e.id)).toEqual([envelope.id]);
    expect(await unsent([envelope.id])).toBe(0);
  });

  it('keeps the marks of the batches it sent before one that failed, and sends that one again', async () => {
    // Two rows a batch; the second batch fails once (a consumer's database away for a moment).
    const sent: string[][] = [];
    let failures = 1;
    const flaky: EventPublisher = {
      kind: 'in-process',
      publish: async (envelopes) => {
        if (sent.length === 1 && failures-- > 0) throw new Error('database down for a moment');
        sent.push(envelopes.map((e) => e.id));
      },
    };
    const uow = new UnitOfWork('scratch', dataSource);
    const relay = new OutboxRelay({
      context: 'scratch',
      dataSource,
      listenUrl: 'postgres://unused',
      table: 'outbox',
      publisher: flaky,
      batchSize: 2,
    });
    const envelopes = Array.from({ length: 6 }, (_, n) => event(randomUUID(), n));
    await uow.transaction(() => new Outbox(uow).add(...envelopes));
    const ids = envelopes.map((e) => e.id);

    await expect(relay.flush()).rejects.toThrow('database down for a moment');
    expect(await unsent(ids.slice(0, 2))).toBe(0); // the first batch's mark committed
    expect(await unsent(ids.slice(2))).toBe(4);
    await relay.flush();
    expect(await unsent(ids)).toBe(0);
    expect(sent).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
  });

  it('the relay leaves alone what the dispatcher has under way', async () => {
    const events = new InProcessEventTransport();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen = recorder(events, () => gate);
    const { uow, outbox, dispatcher, relay } = context({ local: events });
    const envelope = event(randomUUID(), 1);
    await uow.transaction(() => outbox.add(envelope));
    expect(dispatcher.inFlight()).toEqual([envelope.id]);
    await relay.flush(); // finds the row unsent, but under way here
    release();
    await dispatcher.settle();
    expect(seen.map((e) => e.id)).toEqual([envelope.id]); // once, not twice
  });

  it('past its cap of events under way, leaves what commits to the relay', async () => {
    const events = new InProcessEventTransport();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen = recorder(events, () => gate);
    const { uow, outbox, dispatcher, relay } = context({ local: events, maxInFlight: 2 });
    const envelopes = [1, 2, 3, 4].map((n) => event(randomUUID(), n));
    for (const envelope of envelopes) await uow.transaction(() => outbox.add(envelope));
    expect(dispatcher.inFlight()).toHaveLength(2);
    release();
    await dispatcher.settle();
    await relay.flush();
    expect(seen.map((e) => e.id).sort()).toEqual(envelopes.map((e) => e.id).sort());
    expect(await unsent(envelopes.map((e) => e.id))).toBe(0);
  });

  it('sends the broker what commits while a send is under way in one batch, and marks a row only once both sides have it', async () => {
    const batches: string[][] = [];
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    const remote: EventPublisher = {
      kind: 'test-broker',
      publish: async (envelopes) => {
        batches.push(envelopes.map((e) => e.id));
        await gate;
      },
    };
    const { uow, outbox, dispatcher } = context({ remote });
    const envelopes = [1, 2, 3].map((n) => event(randomUUID(), n));
    for (const envelope of envelopes) await uow.transaction(() => outbox.add(envelope));
    expect(batches).toEqual([[envelopes[0].id]]); // the first batch is under way; the others wait
    expect(await unsent(envelopes.map((e) => e.id))).toBe(3);
    const first = release;
    gate = Promise.resolve();
    first();
    await dispatcher.settle();
    expect(batches).toEqual([[envelopes[0].id], [envelopes[1].id, envelopes[2].id]]);
    expect(await unsent(envelopes.map((e) => e.id))).toBe(0);
  });
});
