import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { event } from '@contracts/kernel';
import { InboxConsumer, isTransientFailure } from '@infra/messaging';
import { InventoryModule } from '@modules/inventory';
import { startModule, type ModuleUnderTest } from '../support/module-harness';

const Pinged = event('inventory.pinged', 1, z.object({ id: z.string() }), (p) => p.id, 'ping');
const retry = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 };

/** The inbox consumer on a real database: what it retries, dead-letters, or leaves for later. */
describe('an inbox consumer', () => {
  let module: ModuleUnderTest;
  beforeAll(async () => {
    module = await startModule('inbox_consumer', InventoryModule);
  });
  afterAll(() => module?.close());

  const uow = () => module.registry.get('inventory')!.uow;
  /** A consumer of Pinged in inventory's inbox, handling it with `handle`. */
  const pingConsumer = (handle: () => Promise<void>) =>
    new InboxConsumer('inventory', Pinged, { handle }, uow(), retry);
  const letters = async (messageId: string) =>
    (await module.registry.get('inventory')!.deadLetters.list()).filter((l) => l.messageId === messageId);

  it('retries a failing handler and succeeds when an attempt does', async () => {
    let calls = 0;
    const flaky = pingConsumer(async () => {
      calls += 1;
      if (calls < 3) throw new Error('flaky');
    });
    const envelope = Pinged.create({ id: randomUUID() }, { correlationId: 'c' });
    expect(await flaky.deliver(envelope)).toEqual({ outcome: 'processed' });
    expect(calls).toBe(3);
    expect(await flaky.deliver(envelope)).toEqual({ outcome: 'duplicate' });
    expect(calls).toBe(3);
  });

  it('takes one of two deliveries of a message at once, and the other as a duplicate', async () => {
    let effects = 0;
    const consumer = pingConsumer(async () => {
      await uow().manager.query('SELECT pg_sleep(0.05)');
      effects += 1;
    });
    const envelope = Pinged.create({ id: randomUUID() }, { correlationId: 'c' });
    const outcomes = await Promise.all([consumer.deliver(envelope), consumer.deliver(envelope)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'processed']);
    expect(effects).toBe(1);
  });

  it('dead-letters a handler that fails the same way every time, with the reason', async () => {
    const broken = pingConsumer(async () => Promise.reject(new RangeError('bad data')));
    const envelope = Pinged.create({ id: randomUUID() }, { correlationId: 'c' });
    expect(await broken.deliver(envelope)).toEqual({
      outcome: 'dead-lettered',
      reason: 'failed after 3 attempts: RangeError: bad data',
    });
    expect(await letters(envelope.id)).toHaveLength(1);
  });

  it('dead-letters a payload that is not even an object, and logs it under its envelope’s aggregate', async () => {
    const consumer = pingConsumer(async () => undefined);
    const envelope = { ...Pinged.create({ id: randomUUID() }, { correlationId: 'c' }), payload: null };
    expect(await consumer.deliver(envelope)).toMatchObject({ outcome: 'dead-lettered' });
    expect(await letters(envelope.id)).toHaveLength(1);
  });

  it('never dead-letters a transient failure: it throws, so the message is delivered again', async () => {
    const outage = new Error('timeout exceeded when trying to connect');
    expect(isTransientFailure(outage)).toBe(true);
    let down = true;
    const consumer = pingConsumer(async () => {
      if (down) throw outage;
    });
    const envelope = Pinged.create({ id: randomUUID() }, { correlationId: 'c' });
    await expect(consumer.deliver(envelope)).rejects.toBe(outage);
    expect(await letters(envelope.id)).toEqual([]);
    down = false;
    expect(await consumer.deliver(envelope)).toEqual({ outcome: 'processed' });
  });

  it('knows transient failures from lasting ones', () => {
    expect(isTransientFailure(Object.assign(new Error('x'), { code: '08006' }))).toBe(true); // connection failure
    expect(isTransientFailure(Object.assign(new Error('x'), { code: '40P01' }))).toBe(true); // deadlock
    expect(isTransientFailure(Object.assign(new Error('x'), { transient: true }))).toBe(true);
    expect(isTransientFailure(Object.assign(new Error('x'), { code: '23505' }))).toBe(false); // unique violation
    expect(isTransientFailure(new TypeError('undefined is not a function'))).toBe(false);
  });
});
