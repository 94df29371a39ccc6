import { Logger } from '@nestjs/common';
import { z } from 'zod';
import {
  ContractError,
  conflict,
  defineContract,
  serverStream,
  unary,
  type CallContext,
  type ContractApi,
} from '@contracts/kernel';
import { ContractBus } from '@infra/messaging/contract-bus';
import type { ContractImplementation } from '@infra/messaging/contract-transport';
import { InProcessContractTransport } from '@infra/messaging/in-process-contract.transport';

/** A contract made for this test: a trimmed echo, and a counting stream with a defaulted label. */
const EchoContract = defineContract('echo', 'echo.v1.EchoService', {
  echo: unary(
    z.object({ text: z.string().trim().min(1) }),
    z.object({ text: z.string(), length: z.number().int().nonnegative() }),
    { idempotent: true, access: { anyone: true } },
  ),
  count: serverStream(
    z.object({ upTo: z.number().int().positive().max(10) }),
    z.object({ n: z.number().int().positive(), label: z.string().default('item') }),
    { access: { anyone: true } },
  ),
});
type EchoApi = ContractApi<typeof EchoContract>;

/** A promise that never settles: an implementation that hangs, without a timer to wait out. */
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

function context(budgetMs = 1_000): CallContext {
  return { deadline: Date.now() + budgetMs, correlationId: 'correlation-1' };
}

/**
 * The serving side, looser than the caller's interface on purpose: an implementation may answer
 * anything, and the transport is what holds it to the contract.
 */
interface EchoServer {
  echo(ctx: CallContext, request: { text: string }): unknown;
  count(ctx: CallContext, request: { upTo: number }): AsyncIterable<unknown>;
}

function echoImplementation(overrides: Partial<EchoServer> = {}): ContractImplementation {
  const implementation: EchoServer = {
    echo: async (_ctx, request) => ({ text: request.text, length: request.text.length }),
    count: async function* (_ctx, request) {
      for (let n = 1; n <= request.upTo; n += 1) {
        yield { n };
      }
    },
    ...overrides,
  };
  return implementation as unknown as ContractImplementation;
}

function servedEcho(overrides: Partial<EchoServer> = {}): { client: EchoApi; bus: ContractBus } {
  const bus = new ContractBus();
  bus.serve(EchoContract, echoImplementation(overrides));
  return { client: bus.client(EchoContract), bus };
}

/** The ContractError a promise rejects with; fails the test when it resolves or rejects otherwise. */
async function contractErrorOf(work: Promise<unknown>): Promise<ContractError> {
  const error: unknown = await work.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ContractError);
  return error as ContractError;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) {
    items.push(item);
  }
  return items;
}

let loggedErrors: jest.SpyInstance;
beforeEach(() => {
  loggedErrors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  loggedErrors.mockRestore();
});

describe('in-process contract calls: unary', () => {
  it('hands the implementation the parsed request and the caller the answer', async () => {
    const seen: unknown[] = [];
    const { client } = servedEcho({
      echo: async (ctx, request) => {
        seen.push(ctx.correlationId, request);
        return { text: request.text, length: request.text.length };
      },
    });
    await expect(client.echo(context(), { text: '  fig  ' })).resolves.toEqual({ text: 'fig', length: 3 });
    expect(seen).toEqual(['correlation-1', { text: 'fig' }]);
  });

  it('rejects a request outside the contract as invalid-argument with its issues, and does not call it', async () => {
    const echo = jest.fn(async () => ({ text: 'x', length: 1 }));
    const { client } = servedEcho({ echo });
    const error = await contractErrorOf(client.echo(context(), { text: 42 } as never));
    expect(error.kind).toBe('invalid-argument');
    expect(error.code).toBe('invalid-request');
    expect(error.details.issues).toEqual([{ path: 'text', message: expect.any(String) }]);
    expect(echo).not.toHaveBeenCalled();
  });

  it('reports a blank text (valid type, failed rule) on its path', async () => {
    const { client } = servedEcho();
    const error = await contractErrorOf(client.echo(context(), { text: '   ' }));
    expect(error.code).toBe('invalid-request');
    expect((error.details.issues as { path: string }[]).map((issue) => issue.path)).toEqual(['text']);
  });

  it('turns an answer outside the contract into internal/invalid-response', async () => {
    const { client } = servedEcho({ echo: async () => ({ text: 'fig', length: -1 }) });
    const error = await contractErrorOf(client.echo(context(), { text: 'fig' }));
    expect(error.kind).toBe('internal');
    expect(error.code).toBe('invalid-response');
  });

  it('passes a ContractError thrown by the implementation through unchanged', async () => {
    const thrown = conflict('already-there', 'the echo already exists', { text: 'fig' });
    const { client } = servedEcho({
      echo: async () => {
        throw thrown;
      },
    });
    const error = await contractErrorOf(client.echo(context(), { text: 'fig' }));
    expect(error).toBe(thrown);
    expect(error.toJSON()).toEqual({
      kind: 'conflict',
      code: 'already-there',
      message: 'the echo already exists',
      details: { text: 'fig' },
    });
    expect(loggedErrors).not.toHaveBeenCalled();
  });

  it('turns any other error into internal/internal-error without leaking its message, and logs it', async () => {
    const bug = new Error('password=hunter2 at db.internal:5432');
    const { client } = servedEcho({
      echo: async () => {
        throw bug;
      },
    });
    const error = await contractErrorOf(client.echo(context(), { text: 'fig' }));
    expect(error.kind).toBe('internal');
    expect(error.code).toBe('internal-error');
    expect(error.message).not.toContain('hunter2');
    expect(JSON.stringify(error.toJSON())).not.toContain('hunter2');
    expect(error.details).toEqual({});
    expect(loggedErrors).toHaveBeenCalledWith(expect.objectContaining({ err: bug }), expect.any(String));
  });

  it('turns a transient failure (a lost database connection) into unavailable with a retry-after, without its message', async () => {
    const lost = Object.assign(new Error('read ECONNRESET 10.0.0.7:5432'), { code: 'ECONNRESET' });
    const { client } = servedEcho({
      echo: async () => {
        throw lost;
      },
    });
    const error = await contractErrorOf(client.echo(context(), { text: 'fig' }));
    expect(error).toMatchObject({
      kind: 'unavailable',
      code: 'temporarily-unavailable',
      retryable: true,
      details: { retryAfterSeconds: 1 },
    });
    expect(error.message).not.toContain('10.0.0.7');
  });

  it('turns a number PostgreSQL cannot store (out of range) into invalid-argument, without its message, and logs it', async () => {
    const refused = Object.assign(new Error('integer out of range in stock.on_hand'), { code: '22003' });
    const { client } = servedEcho({
      echo: async () => {
        throw refused;
      },
    });
    const error = await contractErrorOf(client.echo(context(), { text: 'fig' }));
    expect(error).toMatchObject({ kind: 'invalid-argument', code: 'value-out-of-range', retryable: false });
    expect(error.message).not.toContain('stock.on_hand');
    expect(loggedErrors).toHaveBeenCalledWith(expect.objectContaining({ err: refused }), expect.any(String));
    // A text too long for its column is schema drift, a bug: internal, as any other.
    const tooLong = Object.assign(new Error('value too long for type character varying(64)'), { code: '22001' });
    const drifted = servedEcho({
      echo: async () => {
        throw tooLong;
      },
    });
    expect(await contractErrorOf(drifted.client.echo(context(), { text: 'fig' }))).toMatchObject({
      kind: 'internal',
      code: 'internal-error',
    });
  });

  it('treats a synchronous throw like a rejected promise', async () => {
    const { client } = servedEcho({
      echo: () => {
        throw new Error('sync bug');
      },
    });
    const error = await contractErrorOf(client.echo(context(), { text: 'fig' }));
    expect(error.kind).toBe('internal');
    expect(error.code).toBe('internal-error');
  });

  it('fails with deadline-exceeded at once when the deadline has already passed', async () => {
    const echo = jest.fn(async () => ({ text: 'x', length: 1 }));
    const { client } = servedEcho({ echo });
    const late: CallContext = { deadline: Date.now() - 1, correlationId: 'late' };
    const error = await contractErrorOf(client.echo(late, { text: 'fig' }));
    expect(error.kind).toBe('deadline-exceeded');
    expect(error.retryable).toBe(true);
    // A retryable answer must mean "nothing happened": the implementation never ran.
    expect(echo).not.toHaveBeenCalled();
  });

  it('fails with deadline-exceeded when the implementation does not answer within the deadline', async () => {
    const { client } = servedEcho({ echo: () => never() });
    const startedAt = Date.now();
    const error = await contractErrorOf(client.echo(context(30), { text: 'fig' }));
    expect(error.kind).toBe('deadline-exceeded');
    expect(error.code).toBe('deadline-exceeded');
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  it('rejects an unknown method as invalid-argument', async () => {
    const transport = new InProcessContractTransport();
    transport.serve(EchoContract, echoImplementation());
    const error = await contractErrorOf(transport.unary(EchoContract, 'shout', context(), { text: 'fig' }));
    expect(error.kind).toBe('invalid-argument');
    expect(error.code).toBe('unknown-method');
  });
});

describe('in-process contract calls: server stream', () => {
  it('yields every item, parsed against the response schema', async () => {
    const { client } = servedEcho();
    await expect(collect(client.count(context(), { upTo: 3 }))).resolves.toEqual([
      { n: 1, label: 'item' },
      { n: 2, label: 'item' },
      { n: 3, label: 'item' },
    ]);
  });

  it('rejects a request outside the contract as invalid-argument/invalid-request', async () => {
    const { client } = servedEcho();
    const error = await contractErrorOf(collect(client.count(context(), { upTo: 11 })));
    expect(error.kind).toBe('invalid-argument');
    expect(error.code).toBe('invalid-request');
    expect(error.details.issues).toEqual([{ path: 'upTo', message: expect.any(String) }]);
  });

  it('delivers the valid items, then fails with internal/invalid-response on an item outside it', async () => {
    const { client } = servedEcho({
      count: async function* () {
        yield { n: 1 };
        yield { n: 0 };
        yield { n: 3 };
      },
    });
    const received: unknown[] = [];
    const error = await contractErrorOf(
      (async () => {
        for await (const item of client.count(context(), { upTo: 3 })) {
          received.push(item);
        }
      })(),
    );
    expect(received).toEqual([{ n: 1, label: 'item' }]);
    expect(error.kind).toBe('internal');
    expect(error.code).toBe('invalid-response');
  });
});

describe('ContractBus', () => {
  it('answers a contract nobody serves with unavailable/no-route, as a rejected promise', async () => {
    const client = new ContractBus().client(EchoContract);
    let pending: Promise<unknown> | undefined;
    expect(() => {
      pending = client.echo(context(), { text: 'fig' });
    }).not.toThrow();
    expect(pending).toBeInstanceOf(Promise);
    const error = await contractErrorOf(pending!);
    expect(error.kind).toBe('unavailable');
    expect(error.code).toBe('no-route');
  });

  it('answers a stream nobody serves with unavailable/no-route when it is read, not when it is made', async () => {
    const client = new ContractBus().client(EchoContract);
    let stream: AsyncIterable<unknown> | undefined;
    expect(() => {
      stream = client.count(context(), { upTo: 1 });
    }).not.toThrow();
    const error = await contractErrorOf(stream![Symbol.asyncIterator]().next());
    expect(error.code).toBe('no-route');
  });

  it('routes a contract it does not serve to the registered remote transport', async () => {
    const bus = new ContractBus();
    const remote = {
      kind: 'fake-remote',
      unary: jest.fn(async () => ({ text: 'remote', length: 6 })),
      serverStream: jest.fn(),
    };
    bus.route(EchoContract, remote);
    await expect(bus.client(EchoContract).echo(context(), { text: 'fig' })).resolves.toEqual({
      text: 'remote',
      length: 6,
    });
    expect(remote.unary).toHaveBeenCalledWith(EchoContract, 'echo', expect.any(Object), { text: 'fig' });
  });

  it('prefers serving in-process over a remote route', async () => {
    const { bus } = servedEcho();
    const remote = { kind: 'fake-remote', unary: jest.fn(), serverStream: jest.fn() };
    bus.route(EchoContract, remote);
    expect(bus.transportFor(EchoContract)).toBe(bus.inProcess);
  });

  it('refuses to serve a contract twice', () => {
    const { bus } = servedEcho();
    expect(() => bus.serve(EchoContract, echoImplementation())).toThrow(/served twice/);
  });

  it('refuses an implementation that lacks a method, and serves nothing', () => {
    const bus = new ContractBus();
    const { count: _count, ...withoutCount } = echoImplementation();
    expect(() => bus.serve(EchoContract, withoutCount)).toThrow(/lacks method count/);
    expect(bus.inProcess.serves(EchoContract)).toBe(false);
  });

  it('gives a frozen client with exactly the contract methods', () => {
    const { client } = servedEcho();
    expect(Object.keys(client).sort()).toEqual(['count', 'echo']);
    expect(Object.isFrozen(client)).toBe(true);
  });
});

describe('deadlines far away', () => {
  it('does not fire at once when the deadline is beyond what a timer can hold', async () => {
    const { client } = servedEcho();
    const far: CallContext = { deadline: Number.MAX_SAFE_INTEGER, correlationId: 'far' };
    await expect(client.echo(far, { text: 'fig' })).resolves.toEqual({ text: 'fig', length: 3 });
  });
});
