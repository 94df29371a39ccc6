import { randomUUID } from 'node:crypto';
import type { Envelope } from '@contracts/kernel';
import type { EventDelivery } from '@infra/messaging/event-transport';
import { InProcessEventTransport } from '@infra/messaging/in-process-event.transport';

const TYPE = 'ordering.order-created';
const KEY = `${TYPE}.v1`;

function envelope(aggregateId: string, label: string, version = 1): Envelope<{ label: string }> {
  return {
    id: randomUUID(),
    type: TYPE,
    version,
    occurredAt: new Date().toISOString(),
    aggregateId,
    correlationId: 'correlation-1',
    payload: { label },
  };
}

/** A promise opened from outside: what a consumer waits on instead of sleeping. */
function latch(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Lets every already-runnable continuation run, without waiting for any timer. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function consumer(name: string, deliver: (envelope: Envelope) => Promise<void>, eventKey = KEY): EventDelivery {
  return { consumer: name, eventKey, deliver };
}

const labelOf = (delivered: Envelope): string => (delivered.payload as { label: string }).label;

describe('InProcessEventTransport', () => {
  it('delivers the events of one aggregate strictly in order, even when the first is slow', async () => {
    const transport = new InProcessEventTransport();
    const log: string[] = [];
    const firstMayFinish = latch();
    transport.subscribe(
      consumer('slow-consumer', async (delivered) => {
        log.push(`start ${labelOf(delivered)}`);
        if (labelOf(delivered) === 'a1') {
          await firstMayFinish.opened;
        }
        log.push(`end ${labelOf(delivered)}`);
      }),
    );

    const published = transport.publish([envelope('A', 'a1'), envelope('A', 'a2'), envelope('A', 'a3')]);
    await settle();
    expect(log).toEqual(['start a1']);

    firstMayFinish.open();
    await published;
    expect(log).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
  });

  it('keeps each aggregate in order while different aggregates interleave', async () => {
    const transport = new InProcessEventTransport();
    const log: string[] = [];
    const bStarted = latch();
    transport.subscribe(
      consumer('consumer', async (delivered) => {
        const label = labelOf(delivered);
        log.push(label);
        // a1 can only finish once b1 has started: a transport that handled A before B would stall here.
        if (label === 'a1') {
          await bStarted.opened;
          log.push('a1 done');
        }
        if (label === 'b1') bStarted.open();
      }),
    );

    const published = transport.publish([
      envelope('A', 'a1'),
      envelope('A', 'a2'),
      envelope('B', 'b1'),
      envelope('B', 'b2'),
    ]);
    try {
      await settle();
      expect(log).toContain('b1');
    } finally {
      bStarted.open();
    }
    await published;
    expect(log.indexOf('b1')).toBeLessThan(log.indexOf('a1 done'));
    expect(log.filter((label) => label.startsWith('a'))).toEqual(['a1', 'a1 done', 'a2']);
    expect(log.filter((label) => label.startsWith('b'))).toEqual(['b1', 'b2']);
  });

  it('handles no more aggregates at once than its concurrency allows', async () => {
    // The check of the test above, shown to fail: with one aggregate at a time, B waits for A.
    const transport = new InProcessEventTransport(1);
    const log: string[] = [];
    const firstMayFinish = latch();
    transport.subscribe(
      consumer('consumer', async (delivered) => {
        log.push(labelOf(delivered));
        if (labelOf(delivered) === 'a1') await firstMayFinish.opened;
      }),
    );

    const published = transport.publish([envelope('A', 'a1'), envelope('B', 'b1')]);
    await settle();
    expect(log).toEqual(['a1']);
    firstMayFinish.open();
    await published;
    expect(log).toEqual(['a1', 'b1']);
  });

  it('delivers to every consumer of the event key, and only of that key and version', async () => {
    const transport = new InProcessEventTransport();
    const received: string[] = [];
    transport.subscribe(consumer('first', async (e) => void received.push(`first ${labelOf(e)}`)));
    transport.subscribe(consumer('second', async (e) => void received.push(`second ${labelOf(e)}`)));
    transport.subscribe(consumer('v2-only', async (e) => void received.push(`v2 ${labelOf(e)}`), `${TYPE}.v2`));

    await transport.publish([envelope('A', 'x', 1)]);
    expect(received.sort()).toEqual(['first x', 'second x']);
    expect(transport.subscribersOf(KEY).map((s) => s.consumer)).toEqual(['first', 'second']);
  });

  it('resolves at once when there is nothing to publish or nobody listens', async () => {
    const transport = new InProcessEventTransport();
    await expect(transport.publish([])).resolves.toBeUndefined();
    await expect(transport.publish([envelope('A', 'unheard')])).resolves.toBeUndefined();
  });

  it('refuses a consumer that subscribes twice to the same event', () => {
    const transport = new InProcessEventTransport();
    transport.subscribe(consumer('inventory', async () => undefined));
    expect(() => transport.subscribe(consumer('inventory', async () => undefined))).toThrow(/subscribes twice/);
    expect(transport.subscribersOf(KEY)).toHaveLength(1);
  });

  it('lets one consumer subscribe to different events', () => {
    const transport = new InProcessEventTransport();
    transport.subscribe(consumer('inventory', async () => undefined, KEY));
    expect(() => transport.subscribe(consumer('inventory', async () => undefined, `${TYPE}.v2`))).not.toThrow();
  });
});
