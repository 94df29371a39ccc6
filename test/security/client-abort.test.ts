import { getEventListeners } from 'node:events';
import { request as httpRequest, type ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, Param, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import { z } from 'zod';
import {
  HealthModule,
  HEALTH_SETTINGS,
  HttpSettings,
  httpEdgeAdapter,
  RequestContexts,
  RequestSettings,
  setUpHttpEdge,
} from '@apps/http-edge';
import { Configuration } from '@infra/config';
import { InventoryContract, type InventoryApi, type StockUpdate } from '@contracts/inventory';
import { childContext, ContractError, defineContract, serverStream, unary, type CallContext } from '@contracts/kernel';
import { ShadowingContractTransport, type Comparison, type ShadowRecorder } from '@infra/extraction';
import { CallerAbort, ContractBus, InProcessContractTransport, onCallerAbort, workLeftRunning } from '@infra/messaging';
import { GrpcContractServer, GrpcContractTransport, metadataOf } from '@infra/messaging/grpc';
import { FicusModule, ROOT_SETTINGS, settingsProviders } from '@infra/runtime';
import { eventually } from '../support/eventually';

/**
 * Issue 15, item 11 (its abort half): a client that goes away frees nothing while the work it
 * started goes on. Its admission slot stays taken until that work has ended, and the abort
 * reaches the work as the call context's signal, across gRPC too, so the work stops waiting and
 * starts nothing new.
 */

/** A contract whose one method answers only when the test releases it, by id. */
const HoldContract = defineContract('hold', 'hold.v1.HoldService', {
  hold: unary(z.object({ id: z.string().min(1) }), z.object({ id: z.string() }), {
    idempotent: false,
    access: { anyone: true },
  }),
  count: serverStream(z.object({ from: z.number().int() }), z.object({ n: z.number().int() }), {
    access: { anyone: true },
  }),
});

/** Work under way, by id: the context it was given, and how to end it. */
const held = new Map<string, { ctx: CallContext; release: () => void }>();
/** How each handler's contract call ended, by id: 'ok' or the error kind. */
const callOutcomes = new Map<string, string>();
let holdEntered = 0;

function holdUntilReleased(id: string, ctx: CallContext): Promise<void> {
  return new Promise((resolve) => held.set(id, { ctx, release: resolve }));
}

const holdImplementation = {
  hold: async (ctx: CallContext, request: { id: string }) => {
    holdEntered += 1;
    await holdUntilReleased(request.id, ctx);
    return { id: request.id };
  },
  /** Far more items than any reader wants (bounded, so that a reader the abort misses still ends). */
  count: async function* (_ctx: CallContext, request: { from: number }) {
    for (let n = request.from; n < request.from + 1_000; n += 1) yield { n };
  },
};

@Controller('work')
class WorkController {
  constructor(
    private readonly bus: ContractBus,
    private readonly contexts: RequestContexts,
  ) {}

  /** Work blocked in a contract call served in this process. */
  @Get('call/:id')
  async call(@Req() request: Request, @Param('id') id: string) {
    try {
      const answer = await this.bus.client(HoldContract).hold(this.contexts.of(request), { id });
      callOutcomes.set(id, 'ok');
      return answer;
    } catch (error) {
      callOutcomes.set(id, error instanceof ContractError ? error.kind : 'other');
      throw error;
    }
  }

  /** Work blocked in the handler itself (no contract call to cancel). */
  @Get('handler/:id')
  async handler(@Req() request: Request, @Param('id') id: string) {
    await holdUntilReleased(id, this.contexts.of(request));
    return { id };
  }

  @Get('quick')
  quick() {
    return { ok: true };
  }
}

@Module({
  imports: [
    FicusModule.forRoot({
      configuration: Configuration.read({}, [...ROOT_SETTINGS, ...HEALTH_SETTINGS, HttpSettings]),
    }),
    HealthModule,
  ],
  controllers: [WorkController],
  providers: [...settingsProviders([RequestSettings]), RequestContexts],
})
class EdgeUnderTest {}

/** A real edge (the shop's own setup) on a real socket, admitting `maxConcurrent` requests and queueing none. */
async function startEdge(maxConcurrent: number) {
  const app = await NestFactory.create<NestExpressApplication>(EdgeUnderTest, httpEdgeAdapter(), {
    logger: false,
    bodyParser: false,
  });
  setUpHttpEdge(app, { limits: { maxConcurrent, maxQueued: 0, abortedHoldMs: 60_000 } });
  app.get(ContractBus).serve(HoldContract, holdImplementation);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return { base, close: () => app.close() };
}

/** A GET whose client will hang up before the answer (`destroy()`), as an attacker's would. */
function abandonedGet(url: string): ClientRequest {
  const request = httpRequest(url);
  request.on('error', () => undefined); // the hang-up is the point
  request.end();
  return request;
}

const quickStatus = async (base: string) => (await fetch(`${base}/work/quick`)).status;

afterEach(() => {
  held.forEach(({ release }) => release());
  held.clear();
  callOutcomes.clear();
});

describe('a client that aborts its request at the edge', () => {
  it('holds its admission slot until its contract call has really ended: N aborted requests still hold N slots', async () => {
    const edge = await startEdge(2);
    try {
      const clients = ['a', 'b'].map((id) => abandonedGet(`${edge.base}/work/call/${id}`));
      await eventually(() => expect([...held.keys()].sort()).toEqual(['a', 'b']), { what: 'both calls under way' });
      clients.forEach((client) => client.destroy());

      // The abort reached the work as its call context's signal, and the handler stopped waiting.
      await eventually(() => expect(['a', 'b'].map((id) => held.get(id)?.ctx.signal?.aborted)).toEqual([true, true]), {
        timeoutMs: 5_000,
        what: 'signals aborted',
      });
      await eventually(() => expect(Object.fromEntries(callOutcomes)).toEqual({ a: 'cancelled', b: 'cancelled' }), {
        timeoutMs: 5_000,
      });
      // Both handlers have answered into closed sockets, but the work they started goes on: full.
      expect(await quickStatus(edge.base)).toBe(503);

      held.get('a')!.release();
      await eventually(async () => expect(await quickStatus(edge.base)).toBe(200), {
        timeoutMs: 5_000,
        what: 'a slot back once the work ended',
      });
    } finally {
      await edge.close();
    }
  });

  it('holds its admission slot until its handler has settled', async () => {
    const edge = await startEdge(1);
    try {
      const client = abandonedGet(`${edge.base}/work/handler/c`);
      await eventually(() => expect(held.has('c')).toBe(true));
      client.destroy();
      await eventually(() => expect(held.get('c')!.ctx.signal?.aborted).toBe(true), {
        timeoutMs: 5_000,
        what: 'signal aborted',
      });
      expect(await quickStatus(edge.base)).toBe(503);

      held.get('c')!.release();
      await eventually(async () => expect(await quickStatus(edge.base)).toBe(200), { timeoutMs: 5_000 });
    } finally {
      await edge.close();
    }
  });
});

describe('a contract call whose caller has stopped waiting', () => {
  const signalled = (signal: AbortSignal): CallContext => ({
    correlationId: 'abort-test',
    deadline: Date.now() + 30_000,
    signal,
  });

  it('in-process: is refused as cancelled without entering the implementation when its signal has already aborted', async () => {
    const bus = new ContractBus();
    bus.serve(HoldContract, holdImplementation);
    const entered = holdEntered;
    const aborted = AbortSignal.abort();
    await expect(bus.client(HoldContract).hold(signalled(aborted), { id: 'never' })).rejects.toMatchObject({
      kind: 'cancelled',
    });
    await expect(
      bus.client(HoldContract).hold(childContext(signalled(aborted)), { id: 'never' }),
    ).rejects.toMatchObject({ kind: 'cancelled' });
    const stream = bus.client(HoldContract).count(signalled(aborted), { from: 1 })[Symbol.asyncIterator]();
    await expect(stream.next()).rejects.toMatchObject({ kind: 'cancelled' });
    expect(holdEntered).toBe(entered);
    expect(held.has('never')).toBe(false);
  });

  it("keeps its signal through copies and child contexts; a child's own signal is added to its parent's", () => {
    const parent = new AbortController();
    const ctx = signalled(parent.signal);
    expect({ ...ctx }.signal).toBe(parent.signal);
    expect(childContext(ctx, { deadline: ctx.deadline - 1 }).signal).toBe(parent.signal);
    const child = childContext(ctx, { signal: new AbortController().signal });
    expect(child.signal?.aborted).toBe(false);
    parent.abort();
    expect(child.signal?.aborted).toBe(true);
  });

  it('in-process: stops waiting when the signal aborts, while the work it started is still accounted for', async () => {
    const bus = new ContractBus();
    bus.serve(HoldContract, holdImplementation);
    const abort = new AbortController();
    const call = bus.client(HoldContract).hold(signalled(abort.signal), { id: 'd' });
    await eventually(() => expect(held.has('d')).toBe(true));
    abort.abort();
    await expect(call).rejects.toMatchObject({ kind: 'cancelled', code: 'cancelled' });

    let workEnded = false;
    const ended = workLeftRunning(abort.signal).then(() => (workEnded = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(workEnded).toBe(false); // the implementation is still blocked
    held.get('d')!.release();
    await ended;
  });

  it("in-process, with a signal ficus aborts itself (a request's, a served call's): the same, with no listener on the signal", async () => {
    const bus = new ContractBus();
    bus.serve(HoldContract, holdImplementation);
    const abort = new CallerAbort();
    const sawAbort: string[] = [];
    abort.signal.addEventListener('abort', () => sawAbort.push('its own listener'));
    const call = bus.client(HoldContract).hold(signalled(abort.signal), { id: 'f' });
    await eventually(() => expect(held.has('f')).toBe(true));
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(1); // only the test's: the call added none
    abort.abort();
    await expect(call).rejects.toMatchObject({ kind: 'cancelled', code: 'cancelled' });
    expect(sawAbort).toEqual(['its own listener']);

    let workEnded = false;
    const ended = workLeftRunning(abort.signal).then(() => (workEnded = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(workEnded).toBe(false); // the implementation is still blocked
    held.get('f')!.release();
    await ended;
    abort.abort(); // a second abort tells nobody twice
    expect(sawAbort).toHaveLength(1);
  });

  it("CallerAbort: a watcher that throws does not keep the others from being told; its error is raised apart, as an EventTarget's", () => {
    const abort = new CallerAbort();
    const told: string[] = [];
    onCallerAbort(abort.signal, () => {
      throw new Error('a watcher failed');
    });
    onCallerAbort(abort.signal, () => told.push('second'));
    const raised: Array<() => void> = [];
    const nextTick = jest
      .spyOn(process, 'nextTick')
      .mockImplementation((callback) => void raised.push(callback as () => void));
    try {
      abort.abort();
    } finally {
      nextTick.mockRestore();
    }
    expect(told).toEqual(['second']);
    expect(abort.signal.aborted).toBe(true);
    expect(raised).toHaveLength(1);
    expect(() => raised[0]()).toThrow('a watcher failed');
  });

  it('in-process: a stream that would never end stops once its signal aborts', async () => {
    const bus = new ContractBus();
    bus.serve(HoldContract, holdImplementation);
    const abort = new AbortController();
    const received: number[] = [];
    const reading = (async () => {
      for await (const { n } of bus.client(HoldContract).count(signalled(abort.signal), { from: 1 })) {
        received.push(n);
        if (n === 3) abort.abort();
      }
    })();
    await expect(reading).rejects.toMatchObject({ kind: 'cancelled' });
    expect(received).toEqual([1, 2, 3]);
  });

  describe('over gRPC', () => {
    let server: GrpcContractServer;
    let transport: GrpcContractTransport;
    let caller: ContractBus;
    const served = new Map<string, { ctx: CallContext; release: () => void }>();
    let watchStopped = false;
    const inventory: InventoryApi = {
      checkStock: async (ctx, request) => {
        await new Promise<void>((release) => served.set(request.skus[0], { ctx, release }));
        return { levels: [] };
      },
      reserveStock: async () => ({ reserved: true, unavailableSkus: [] }),
      releaseStock: async () => ({ released: true }),
      restock: async (_ctx, request) => ({ sku: request.sku, available: request.quantity, reserved: 0 }),
      watchStock: async function* (ctx): AsyncIterable<StockUpdate> {
        try {
          yield { sku: 'FICUS-LYRATA', available: 1, reserved: 0, changedAt: new Date().toISOString() };
          // Waits for changes until the caller goes away, as inventory's own watch does.
          await new Promise((resolve) => ctx.signal?.addEventListener('abort', resolve, { once: true }));
        } finally {
          watchStopped = true;
        }
      },
    };

    beforeAll(async () => {
      const serving = new ContractBus();
      serving.serve(InventoryContract, inventory);
      server = new GrpcContractServer(serving.inProcess, { host: '127.0.0.1', port: 0 });
      server.expose(InventoryContract);
      const port = await server.listen();
      transport = new GrpcContractTransport({ address: `127.0.0.1:${port}` });
      caller = new ContractBus();
      caller.route(InventoryContract, transport);
    });
    afterAll(async () => {
      served.forEach(({ release }) => release());
      transport?.close();
      await server?.close(100);
    });

    it('is cancelled on the server when its caller aborts: the implementation sees its signal abort', async () => {
      const abort = new AbortController();
      const call = caller.client(InventoryContract).checkStock(signalled(abort.signal), { skus: ['FICUS-ABORTED'] });
      await eventually(() => expect(served.has('FICUS-ABORTED')).toBe(true));
      expect(served.get('FICUS-ABORTED')!.ctx.signal?.aborted).toBe(false);
      abort.abort();
      await expect(call).rejects.toMatchObject({ kind: 'cancelled' });
      await eventually(() => expect(served.get('FICUS-ABORTED')!.ctx.signal?.aborted).toBe(true), {
        timeoutMs: 5_000,
        what: 'the server-side signal aborted',
      });
    });

    it('sends nothing when its signal has already aborted', async () => {
      await expect(
        caller.client(InventoryContract).checkStock(signalled(AbortSignal.abort()), { skus: ['FICUS-NEVER-SENT'] }),
      ).rejects.toMatchObject({ kind: 'cancelled' });
      // A call sent after it, on the same connection, arrives; the aborted one never did.
      const later = caller
        .client(InventoryContract)
        .checkStock(signalled(new AbortController().signal), { skus: ['FICUS-LATER'] });
      await eventually(() => expect(served.has('FICUS-LATER')).toBe(true));
      served.get('FICUS-LATER')!.release();
      await later;
      expect(served.has('FICUS-NEVER-SENT')).toBe(false);
    });

    it("stops a server stream's implementation when its caller aborts", async () => {
      const abort = new AbortController();
      const reading = (async () => {
        for await (const update of caller
          .client(InventoryContract)
          .watchStock(signalled(abort.signal), { skus: ['FICUS-LYRATA'] })) {
          expect(update.sku).toBe('FICUS-LYRATA');
          abort.abort();
        }
      })();
      await expect(reading).rejects.toMatchObject({ kind: 'cancelled' });
      await eventually(() => expect(watchStopped).toBe(true), {
        timeoutMs: 5_000,
        what: 'the watch on the server stopped',
      });
    });

    it('a call the caller did not abort is answered, and its signal never aborts after the answer', async () => {
      const call = caller
        .client(InventoryContract)
        .checkStock(signalled(new AbortController().signal), { skus: ['FICUS-ANSWERED'] });
      await eventually(() => expect(served.has('FICUS-ANSWERED')).toBe(true));
      served.get('FICUS-ANSWERED')!.release();
      await expect(call).resolves.toEqual({ levels: [] });
      // grpc-js reports 'cancelled' on the tick after any status it sends, long before the answer
      // has crossed the socket back to this (same) process; the server stops listening first.
      expect(served.get('FICUS-ANSWERED')!.ctx.signal?.aborted).toBe(false);
    });

    it("never writes the signal into the call's metadata", () => {
      const plain: CallContext = { correlationId: 'c', deadline: Date.now() + 1_000, requestId: 'r' };
      expect(metadataOf({ ...plain, signal: new AbortController().signal }).toJSON()).toEqual(
        metadataOf(plain).toJSON(),
      );
    });
  });
});

describe('a shadowed read (extraction) whose caller leaves', () => {
  /** Inventory's checkStock, answering when released, in-process and in its extracted copy. */
  function copy() {
    const waiting: Array<() => void> = [];
    let asked = 0;
    const transport = new InProcessContractTransport();
    const inventory: InventoryApi = {
      checkStock: async (_ctx, request) => {
        asked += 1;
        await new Promise<void>((release) => waiting.push(release));
        return { levels: request.skus.map((sku) => ({ sku, available: 1, reserved: 0 })) };
      },
      reserveStock: async () => ({ reserved: true, unavailableSkus: [] }),
      releaseStock: async () => ({ released: true }),
      restock: async (_ctx, request) => ({ sku: request.sku, available: request.quantity, reserved: 0 }),
      watchStock: async function* () {},
    };
    transport.serve(InventoryContract, inventory);
    return {
      transport,
      release: () => waiting.splice(0).forEach((release) => release()),
      asked: () => asked,
      waiting: () => waiting.length,
    };
  }
  const comparisons: Comparison[] = [];
  const recorder = {
    compare: (comparison: Comparison) => (comparisons.push(comparison), Promise.resolve()),
  } as unknown as ShadowRecorder;
  beforeEach(() => comparisons.splice(0));

  it('compares nothing when the caller left during the in-process half, and asks the copy nothing', async () => {
    const inProcess = copy();
    const extracted = copy();
    const shadowing = new ShadowingContractTransport(inProcess.transport, extracted.transport, {
      context: 'inventory',
      enabled: () => true,
      recorder,
      maxInFlight: 1,
    });
    const abort = new AbortController();
    const call = shadowing.unary(
      InventoryContract,
      'checkStock',
      { correlationId: 's', deadline: Date.now() + 30_000, signal: abort.signal },
      { skus: ['FIG'] },
    );
    await eventually(() => expect(inProcess.waiting()).toBe(1));
    abort.abort();
    await expect(call).rejects.toMatchObject({ kind: 'cancelled' });
    inProcess.release();
    expect(extracted.asked()).toBe(0);
    expect(comparisons).toEqual([]);

    // Its shadowing slot is free again: the next read is shadowed.
    const next = shadowing.unary(
      InventoryContract,
      'checkStock',
      { correlationId: 's', deadline: Date.now() + 30_000 },
      { skus: ['FIG'] },
    );
    await eventually(() => expect(inProcess.waiting()).toBe(1));
    inProcess.release();
    await next;
    await eventually(() => expect(extracted.waiting()).toBe(1));
    extracted.release();
    await eventually(() => expect(comparisons).toHaveLength(1));
  });

  it("lets the extracted half finish when the caller leaves after its answer, so its leaving never counts as the copy's error", async () => {
    const inProcess = copy();
    const extracted = copy();
    const shadowing = new ShadowingContractTransport(inProcess.transport, extracted.transport, {
      context: 'inventory',
      enabled: () => true,
      recorder,
    });
    const abort = new AbortController();
    const call = shadowing.unary(
      InventoryContract,
      'checkStock',
      { correlationId: 's', deadline: Date.now() + 30_000, signal: abort.signal },
      { skus: ['FIG'] },
    );
    await eventually(() => expect(inProcess.waiting()).toBe(1));
    inProcess.release();
    await call;
    await eventually(() => expect(extracted.waiting()).toBe(1));
    abort.abort(); // the caller goes on to another call and leaves during it
    extracted.release();
    await eventually(() => expect(comparisons).toHaveLength(1));
    expect(comparisons[0].extracted.ok).toBe(true);
  });
});
