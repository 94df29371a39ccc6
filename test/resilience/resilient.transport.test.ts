import { z } from 'zod';
import { ContractError, defineContract, unary, unavailable, type CallContext } from '@contracts/kernel';
import type { ContractTransport } from '@infra/messaging';
import { processMetrics } from '@infra/observability';
import { parseExposition } from '../support/metrics-scrape';
import { DEFAULT_REMOTE_POLICY, ResilientTransport, type RemoteCallPolicy } from '@infra/resilience';

const Contract = defineContract('remote', 'remote.v1.RemoteService', {
  read: unary(z.object({}), z.object({ n: z.number() }), { idempotent: true, access: { anyone: true } }),
  write: unary(z.object({}), z.object({ n: z.number() }), { idempotent: false, access: { anyone: true } }),
});

/** A remote target that answers from a script: each call takes the next outcome. */
class ScriptedTarget implements ContractTransport {
  readonly kind = 'scripted';
  calls = 0;
  constructor(private readonly outcome: (call: number) => Promise<unknown>) {}
  unary(): Promise<unknown> {
    this.calls += 1;
    return this.outcome(this.calls);
  }
  // eslint-disable-next-line require-yield -- a stream that is never read in these tests
  async *serverStream(): AsyncIterable<unknown> {
    throw new Error('not used');
  }
}

const now = { t: 0 };
const clock = { now: () => now.t };
const ctx = (budgetMs = 60_000): CallContext => ({ correlationId: 'c', deadline: now.t + budgetMs });
const policy = (overrides: Partial<RemoteCallPolicy> = {}): RemoteCallPolicy => ({
  ...DEFAULT_REMOTE_POLICY,
  ...overrides,
});
const noSleep = async () => undefined;
const down = () => Promise.reject(unavailable('upstream-unavailable', 'down'));

describe('calls to a remote target', () => {
  beforeEach(() => (now.t = 1_000_000));

  it('retry an idempotent method on a retryable error, never more than 1 + retries times', async () => {
    const target = new ScriptedTarget(down);
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ retries: 2 }),
      clock,
      sleep: noSleep,
    });
    await expect(transport.unary(Contract, 'read', ctx(), {})).rejects.toMatchObject({ code: 'upstream-unavailable' });
    expect(target.calls).toBe(3);
  });

  it('succeed when a retry does', async () => {
    const target = new ScriptedTarget((call) => (call < 3 ? down() : Promise.resolve({ n: call })));
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ retries: 2 }),
      clock,
      sleep: noSleep,
    });
    await expect(transport.unary(Contract, 'read', ctx(), {})).resolves.toEqual({ n: 3 });
  });

  it('never retry a method that is not idempotent', async () => {
    const target = new ScriptedTarget(down);
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ retries: 5 }),
      clock,
      sleep: noSleep,
    });
    await expect(transport.unary(Contract, 'write', ctx(), {})).rejects.toBeInstanceOf(ContractError);
    expect(target.calls).toBe(1);
  });

  it('never retry an error that says the request is wrong, nor count it against the target', async () => {
    const target = new ScriptedTarget(() => Promise.reject(new ContractError('not-found', 'nope', 'no such thing')));
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ retries: 5 }),
      clock,
      sleep: noSleep,
    });
    for (let i = 0; i < 10; i++) await transport.unary(Contract, 'read', ctx(), {}).catch(() => undefined);
    expect(target.calls).toBe(10);
    expect(transport.breaker.state).toBe('closed');
  });

  it('wait with full jitter: a random share of the exponential step', async () => {
    const waits: number[] = [];
    const target = new ScriptedTarget(down);
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ retries: 3, backoff: { initialMs: 100, maxMs: 250 } }),
      clock,
      sleep: async (ms) => void waits.push(ms),
      random: () => 0.5,
    });
    await transport.unary(Contract, 'read', ctx(), {}).catch(() => undefined);
    expect(waits).toEqual([50, 100, 125]); // 0.5 × min(250, 100·2^attempt)
  });

  it("give up instead of retrying past the caller's deadline", async () => {
    const target = new ScriptedTarget(down);
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ retries: 3, backoff: { initialMs: 1_000, maxMs: 1_000 } }),
      clock,
      sleep: noSleep,
      random: () => 1,
    });
    await expect(transport.unary(Contract, 'read', ctx(500), {})).rejects.toMatchObject({ kind: 'deadline-exceeded' });
    expect(target.calls).toBe(1);
  });

  it('stop retrying when the retry budget is spent', async () => {
    const target = new ScriptedTarget(down);
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({
        retries: 2,
        retryBudget: { ratio: 0, minPerWindow: 1, windowMs: 10_000 },
        breaker: { ...DEFAULT_REMOTE_POLICY.breaker, failuresToOpen: 100 },
      }),
      clock,
      sleep: noSleep,
    });
    for (let i = 0; i < 3; i++) await transport.unary(Contract, 'read', ctx(), {}).catch(() => undefined);
    expect(target.calls).toBe(3 + 1); // three calls, one retry in all
  });

  it('open the breaker after 5 failures and then fail fast without calling', async () => {
    const target = new ScriptedTarget(down);
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ retries: 0 }),
      clock,
      sleep: noSleep,
    });
    for (let i = 0; i < 5; i++) await transport.unary(Contract, 'read', ctx(), {}).catch(() => undefined);
    await expect(transport.unary(Contract, 'read', ctx(), {})).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'circuit-open',
      details: { retryAfterSeconds: 30 },
    });
    expect(target.calls).toBe(5);
  });

  it('hold at most 2 running + 2 queued calls; the next fails fast with bulkhead-full', async () => {
    const releases: Array<() => void> = [];
    const target = new ScriptedTarget(() => new Promise((resolve) => releases.push(() => resolve({ n: 1 }))));
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ bulkhead: { maxConcurrent: 2, maxQueued: 2 } }),
      clock,
      sleep: noSleep,
    });
    const running = Array.from({ length: 4 }, () => transport.unary(Contract, 'read', ctx(), {}));
    await new Promise((resolve) => setImmediate(resolve));
    expect(target.calls).toBe(2);
    expect(transport.queued).toBe(2);
    await expect(transport.unary(Contract, 'read', ctx(), {})).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'bulkhead-full',
    });
    while (releases.length) {
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await expect(Promise.all(running)).resolves.toHaveLength(4);
    expect(target.calls).toBe(4);
  });
  it('count a call its caller cancelled neither for nor against the target, so aborting clients keep no circuit closed', async () => {
    const cancelledByCaller = () =>
      Promise.reject(new ContractError('cancelled', 'cancelled', 'the caller stopped waiting'));
    const target = new ScriptedTarget((call) => (call % 2 === 0 ? cancelledByCaller() : down()));
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ retries: 0 }),
      clock,
      sleep: noSleep,
    });
    for (let i = 0; i < 9; i++) await transport.unary(Contract, 'read', ctx(), {}).catch(() => undefined);
    expect(transport.breaker.state).toBe('open'); // 5 failures, 4 cancellations between them
  });

  it('send no queued attempt, nor retry, once the caller has left', async () => {
    const releases: Array<() => void> = [];
    const target = new ScriptedTarget(() => new Promise((resolve) => releases.push(() => resolve({ n: 1 }))));
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ bulkhead: { maxConcurrent: 1, maxQueued: 1 } }),
      clock,
      sleep: noSleep,
    });
    const running = transport.unary(Contract, 'read', ctx(), {});
    const abort = new AbortController();
    const queued = transport.unary(Contract, 'read', { ...ctx(), signal: abort.signal }, {});
    abort.abort();
    releases.shift()!();
    await expect(running).resolves.toEqual({ n: 1 });
    await expect(queued).rejects.toMatchObject({ kind: 'cancelled' });
    expect(target.calls).toBe(1);

    const leaving = new AbortController();
    const failing = new ScriptedTarget(() => {
      leaving.abort(); // the caller leaves while the attempt fails
      return down();
    });
    const retrying = new ResilientTransport({
      target: 't2',
      inner: failing,
      policy: policy({ retries: 2 }),
      clock,
      sleep: noSleep,
    });
    await expect(retrying.unary(Contract, 'read', { ...ctx(), signal: leaving.signal }, {})).rejects.toMatchObject({
      code: 'upstream-unavailable',
    });
    expect(failing.calls).toBe(1);
  });
});

describe('per-method policies from the topology', () => {
  beforeEach(() => (now.t = 1_000_000));

  it('a method may allow fewer retries than the default', async () => {
    const target = new ScriptedTarget(down);
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy({ retries: 3 }),
      clock,
      sleep: noSleep,
      methodPolicyOf: (_c, method) => (method === 'read' ? { retries: 0 } : undefined),
    });
    await transport.unary(Contract, 'read', ctx(), {}).catch(() => undefined);
    expect(target.calls).toBe(1);
  });

  it("a method's timeout caps each attempt's deadline, never extends the caller's", async () => {
    const deadlines: number[] = [];
    const target: ContractTransport = {
      kind: 'spy',
      unary: async (_c, _m, callCtx) => {
        deadlines.push(callCtx.deadline);
        return { n: 1 };
      },
      serverStream: () => (async function* () {})(),
    };
    const transport = new ResilientTransport({
      target: 't',
      inner: target,
      policy: policy(),
      clock,
      sleep: noSleep,
      methodPolicyOf: () => ({ timeoutMs: 1_000 }),
    });
    await transport.unary(Contract, 'read', ctx(60_000), {});
    await transport.unary(Contract, 'read', ctx(300), {});
    expect(deadlines).toEqual([now.t + 1_000, now.t + 300]);
  });
});

/** One scrape of this process; reads a sample of `target` as it is written (a string), if there is one. */
async function sampleReader(
  target: string,
): Promise<(name: string, labels?: Record<string, string>) => string | undefined> {
  const scrape = parseExposition(await processMetrics.metrics());
  return (name, labels = {}) => {
    const value = scrape.find(name, { target, ...labels })[0]?.value;
    return value === undefined ? undefined : String(value);
  };
}

describe('the breaker of a remote target, as Prometheus scrapes it', () => {
  beforeEach(() => (now.t = 1_000_000));

  const scraped = async (target: string) => {
    const value = await sampleReader(target);
    return {
      state: value('ficus_circuit_breaker_state'),
      opened: value('ficus_circuit_breaker_transitions_total', { to: 'open' }),
      rejected: value('ficus_remote_calls_rejected_total', { reason: 'circuit-open' }),
    };
  };

  it('shows closed, then open with the transition and the calls held off, and is gone once closed', async () => {
    const transport = new ResilientTransport({
      target: 'scraped',
      inner: new ScriptedTarget(down),
      policy: policy({ retries: 0 }),
      clock,
      sleep: noSleep,
    });
    expect(await scraped('scraped')).toEqual({ state: '0', opened: undefined, rejected: undefined });

    for (let i = 0; i < 5; i++) await transport.unary(Contract, 'read', ctx(), {}).catch(() => undefined);
    await expect(transport.unary(Contract, 'read', ctx(), {})).rejects.toMatchObject({ code: 'circuit-open' });
    expect(await scraped('scraped')).toEqual({ state: '2', opened: '1', rejected: '1' });

    now.t += 30_000; // open for 30 s, then half-open when next looked at
    expect((await scraped('scraped')).state).toBe('1');

    transport.close();
    expect((await scraped('scraped')).state).toBeUndefined();
  });
});

describe('the bulkhead of a remote target, as Prometheus scrapes it', () => {
  const scraped = async (target: string) => {
    const value = await sampleReader(target);
    return { active: value('ficus_bulkhead_active'), queued: value('ficus_bulkhead_queued') };
  };

  it('shows the calls under way and waiting, and is gone once its transport closes', async () => {
    let open = () => undefined as void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow = new ScriptedTarget(async () => {
      await gate;
      return { n: 1 };
    });
    const transport = new ResilientTransport({
      target: 'bulkheaded',
      inner: slow,
      policy: policy({ retries: 0, bulkhead: { maxConcurrent: 1, maxQueued: 2 } }),
      clock,
      sleep: noSleep,
    });
    expect(await scraped('bulkheaded')).toEqual({ active: '0', queued: '0' });

    const calls = [1, 2, 3].map(() => transport.unary(Contract, 'read', ctx(), {}));
    expect({ active: transport.active, queued: transport.queued }).toEqual({ active: 1, queued: 2 });
    expect(await scraped('bulkheaded')).toEqual({ active: '1', queued: '2' });

    open();
    await Promise.all(calls);
    expect(await scraped('bulkheaded')).toEqual({ active: '0', queued: '0' });

    transport.close();
    expect(await scraped('bulkheaded')).toEqual({ active: undefined, queued: undefined });
  });
});
