import { problemOfContractError } from '@apps/http-edge';
import { ContractError } from '@contracts/kernel';
import { CircuitBreaker, type BreakerTransition } from '@infra/resilience/circuit-breaker';

class FakeClock {
  t = 1_000_000;
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

const ok = () => Promise.resolve('ok');
const boom = () => Promise.reject(new Error('boom'));

describe('circuit breaker (5 failures open it, 30 s open, 2 successful probes close it)', () => {
  let clock: FakeClock;
  let breaker: CircuitBreaker;
  let transitions: Array<Pick<BreakerTransition, 'from' | 'to'>>;

  beforeEach(() => {
    clock = new FakeClock();
    breaker = new CircuitBreaker('payments', undefined, clock);
    transitions = [];
    breaker.onTransition(({ from, to }) => transitions.push({ from, to }));
  });

  const fail = (times: number) =>
    Promise.all(Array.from({ length: times }, () => breaker.execute(boom).catch((e: unknown) => e)));

  it('stays closed through 4 failures and opens at the 5th', async () => {
    await fail(4);
    expect(breaker.state).toBe('closed');
    await fail(1);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual([{ from: 'closed', to: 'open' }]);
  });

  it('a success in between resets the count', async () => {
    await fail(4);
    await breaker.execute(ok);
    await fail(4);
    expect(breaker.state).toBe('closed');
  });

  it('while open, fails fast with unavailable/circuit-open and a retry-after, without calling', async () => {
    await fail(5);
    clock.advance(10_000);
    const call = jest.fn(ok);
    const error = await breaker.execute(call).catch((e: unknown) => e);
    expect(call).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(ContractError);
    expect(error).toMatchObject({ kind: 'unavailable', code: 'circuit-open', details: { retryAfterSeconds: 20 } });
  });

  it('goes closed → open → half-open → closed, after two successful probes', async () => {
    await fail(5);
    clock.advance(29_999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual([
      { from: 'closed', to: 'open' },
      { from: 'open', to: 'half-open' },
      { from: 'half-open', to: 'closed' },
    ]);
  });

  it('a failed probe opens it again for another 30 s', async () => {
    await fail(5);
    clock.advance(30_000);
    await breaker.execute(boom).catch(() => undefined);
    expect(breaker.state).toBe('open');
    clock.advance(29_000);
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
  });

  it('lets one probe through at a time while half-open', async () => {
    await fail(5);
    clock.advance(30_000);
    let release!: () => void;
    const slow = breaker.execute(() => new Promise<string>((resolve) => (release = () => resolve('ok'))));
    await expect(breaker.execute(ok)).rejects.toMatchObject({ code: 'circuit-open' });
    release();
    await slow;
  });

  it("does not count errors the caller says are not the target's fault", async () => {
    const notFound = () => Promise.reject(new ContractError('not-found', 'x', 'no such thing'));
    for (let i = 0; i < 10; i++) {
      await breaker
        .execute(notFound, (e) => !(e instanceof ContractError && e.kind === 'not-found'))
        .catch(() => undefined);
    }
    expect(breaker.state).toBe('closed');
  });
});

describe('at the HTTP edge', () => {
  it('an open circuit or a full bulkhead is a 503 problem that says when to come back', () => {
    const problem = problemOfContractError(
      new ContractError('unavailable', 'circuit-open', 'payments is failing', { retryAfterSeconds: 20 }),
    );
    expect(problem).toMatchObject({ status: 503, code: 'circuit-open', retryAfterSeconds: 20 });
  });
});
