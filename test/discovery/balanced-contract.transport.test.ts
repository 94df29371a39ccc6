import { z } from 'zod';
import { ContractError, defineContract, unary, type CallContext, type Contract } from '@contracts/kernel';
import {
  BalancedContractTransport,
  type BalancedEndpoint,
  type ClosableTransport,
  type EndpointSource,
  neverSentError,
} from '@infra/messaging/grpc';

/**
 * The balancer over fake instances: which instance takes each call, when a failed call moves to
 * another instance and when it must not, ejection and its end, instances joining and leaving.
 */

const Echo = defineContract('echo', 'echo.v1.EchoService', {
  read: unary(z.object({ n: z.number() }), z.object({ by: z.string() }), {
    idempotent: true,
    access: { anyone: true },
  }),
  write: unary(z.object({ n: z.number() }), z.object({ by: z.string() }), {
    idempotent: false,
    access: { anyone: true },
  }),
}) as unknown as Contract;

/** As fromServiceError makes it when grpc-js found no connection. */
const NEVER_SENT = () =>
  neverSentError('echo.v1.EchoService/read', 'No connection established. Last error: connect ECONNREFUSED');
const DROPPED = () =>
  new ContractError('unavailable', 'upstream-unavailable', 'echo.v1.EchoService/write: Connection dropped');

type Behaviour = 'ok' | 'never-sent' | 'dropped' | 'not-found' | 'hang';

class FakeInstance implements ClosableTransport {
  readonly kind = 'fake';
  behaviour: Behaviour = 'ok';
  calls = 0;
  closed = false;
  private readonly hanging: Array<() => void> = [];

  constructor(readonly id: string) {}

  unary(_contract: Contract, _method: string): Promise<unknown> {
    this.calls++;
    switch (this.behaviour) {
      case 'ok':
        return Promise.resolve({ by: this.id });
      case 'never-sent':
        return Promise.reject(NEVER_SENT());
      case 'dropped':
        return Promise.reject(DROPPED());
      case 'not-found':
        return Promise.reject(new ContractError('not-found', 'no-such-thing', 'nothing here'));
      case 'hang':
        return new Promise((resolve) => this.hanging.push(() => resolve({ by: this.id })));
    }
  }

  finishHanging(): void {
    this.hanging.splice(0).forEach((finish) => finish());
  }

  serverStream(): AsyncIterable<unknown> {
    throw new Error('not used');
  }

  close(): void {
    this.closed = true;
  }
}

class FakeSource implements EndpointSource {
  private endpoints: BalancedEndpoint[];
  private readonly listeners = new Set<(endpoints: readonly BalancedEndpoint[]) => void>();

  constructor(...ids: string[]) {
    this.endpoints = ids.map((id) => ({ id, address: `${id}:7000` }));
  }

  current(): readonly BalancedEndpoint[] {
    return this.endpoints;
  }

  subscribe(listener: (endpoints: readonly BalancedEndpoint[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(...ids: string[]): void {
    this.endpoints = ids.map((id) => ({ id, address: `${id}:7000` }));
    this.listeners.forEach((listener) => listener(this.endpoints));
  }
}

function setUp(...ids: string[]) {
  const source = new FakeSource(...ids);
  const instances = new Map<string, FakeInstance>();
  let now = 1_000_000;
  const transport = new BalancedContractTransport({
    target: 'echo',
    source,
    connect: (endpoint) => {
      const instance = new FakeInstance(endpoint.id);
      instances.set(endpoint.id, instance);
      return instance;
    },
    ejection: { baseMs: 1_000, maxMs: 8_000 },
    now: () => now,
    random: () => 0, // of two equally good instances, the first: calls land predictably
  });
  const ctx = (): CallContext => ({ deadline: now + 5_000, correlationId: 'c-1' }) as CallContext;
  return {
    source,
    transport,
    instance: (id: string) => instances.get(id)!,
    advance: (ms: number) => (now += ms),
    read: () => transport.unary(Echo, 'read', ctx(), { n: 1 }) as Promise<{ by: string }>,
    write: () => transport.unary(Echo, 'write', ctx(), { n: 1 }) as Promise<{ by: string }>,
  };
}

describe('BalancedContractTransport', () => {
  it('spreads calls over the instances: sequential calls alternate, a busy instance is passed over', async () => {
    const { read, instance, transport } = setUp('a', 'b');
    const served: string[] = [];
    for (let i = 0; i < 10; i++) served.push((await read()).by);
    expect(served.filter((by) => by === 'a')).toHaveLength(5);
    expect(served.filter((by) => by === 'b')).toHaveLength(5);

    instance('a').behaviour = 'hang';
    const slow = read(); // lands on a (equal picks, a first) and stays in flight
    for (let i = 0; i < 3; i++) expect((await read()).by).toBe('b');
    instance('a').finishHanging();
    await slow;
    expect(transport.snapshot().map((i) => i.inFlight)).toEqual([0, 0]);
  });

  it('moves an idempotent call to another instance when its instance is unreachable, and ejects that instance', async () => {
    const { read, instance, transport } = setUp('a', 'b');
    instance('a').behaviour = 'dropped';
    instance('b').behaviour = 'ok';
    for (let i = 0; i < 6; i++) expect((await read()).by).toBe('b');
    // a failed once, was ejected, and got no call after that
    expect(instance('a').calls).toBe(1);
    expect(transport.snapshot().find((i) => i.id === 'a')?.ejected).toBe(true);
  });

  it('moves a call that is not idempotent only when the request never left', async () => {
    const { write, instance } = setUp('a', 'b');
    instance('a').behaviour = 'never-sent';
    const first = await write();
    expect(first.by).toBe('b');
    expect(instance('a').calls + instance('b').calls).toBe(2);

    // "Connection dropped": the command may have run on the instance; it is not sent again
    const other = setUp('a', 'b');
    other.instance('a').behaviour = 'dropped';
    other.instance('b').behaviour = 'dropped';
    await expect(other.write()).rejects.toMatchObject({ kind: 'unavailable', code: 'upstream-unavailable' });
    expect(other.instance('a').calls + other.instance('b').calls).toBe(1);
  });

  it('never moves an answer the instance gave on purpose (not-found), and tries each instance at most once', async () => {
    const { read, instance } = setUp('a', 'b', 'c');
    instance('a').behaviour = 'not-found';
    instance('b').behaviour = 'not-found';
    instance('c').behaviour = 'not-found';
    await expect(read()).rejects.toMatchObject({ kind: 'not-found' });
    expect(instance('a').calls + instance('b').calls + instance('c').calls).toBe(1);

    instance('a').behaviour = 'dropped';
    instance('b').behaviour = 'dropped';
    instance('c').behaviour = 'dropped';
    await expect(read()).rejects.toMatchObject({ code: 'upstream-unavailable' });
    expect(instance('a').calls + instance('b').calls + instance('c').calls).toBe(4);
  });

  it('takes an ejected instance back after its ejection, for twice as long if it fails again', async () => {
    const { read, instance, advance, transport } = setUp('a', 'b');
    instance('a').behaviour = 'never-sent';
    await read(); // a ejected for 1 s
    advance(999);
    await read();
    expect(instance('a').calls).toBe(1);
    advance(2);
    await read(); // a is back in the choice; it fails again: ejected for 2 s
    await read();
    const afterSecond = instance('a').calls;
    advance(1_500);
    await read();
    expect(instance('a').calls).toBe(afterSecond); // still out at 1.5 s
    instance('a').behaviour = 'ok';
    advance(600);
    expect((await read()).by).toBe('a'); // back, and picked: it has had the fewest calls
    expect(transport.snapshot().every((i) => !i.ejected)).toBe(true);
  });

  it('still tries an ejected instance when every instance is ejected (a chance beats a certain failure)', async () => {
    const { read, instance } = setUp('a');
    instance('a').behaviour = 'never-sent';
    await expect(read()).rejects.toMatchObject({ code: 'upstream-unavailable' });
    instance('a').behaviour = 'ok';
    expect((await read()).by).toBe('a');
  });

  it('follows the registry: a new instance gets calls, one that left is closed once its calls end', async () => {
    const { read, source, instance, transport } = setUp('a');
    expect((await read()).by).toBe('a');
    source.set('a', 'b');
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) served.add((await read()).by);
    expect(served).toEqual(new Set(['a', 'b']));

    instance('a').behaviour = 'hang';
    instance('b').behaviour = 'hang';
    const inFlight = [read(), read()];
    source.set('b');
    expect(instance('a').closed).toBe(false); // its call is still under way
    instance('a').finishHanging();
    instance('b').finishHanging();
    await Promise.all(inFlight);
    expect(instance('a').closed).toBe(true);
    instance('b').behaviour = 'ok';
    for (let i = 0; i < 3; i++) expect((await read()).by).toBe('b');

    source.set();
    await expect(read()).rejects.toMatchObject({ kind: 'unavailable', code: 'no-instances' });
    await expect(transport.check()).resolves.toMatchObject({ up: false, detail: 'no live instance in the registry' });
    transport.close();
    expect(instance('b').closed).toBe(true);
  });
});
