import { PeriodicSweep } from '@infra/runtime';

/** PeriodicSweep on jest's fake clock: when it sweeps, never two at once, and nothing after stop. */
describe('a periodic sweep', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** A sweep that notes when each round starts; with `hold`, a round lasts until `finishRound`. */
  function sweepCounting(options: { everyMs: number; firstAfterMs?: number; hold?: boolean }) {
    const runs: number[] = [];
    let finish: (() => void) | undefined;
    const sweep = new PeriodicSweep({
      name: 'TestSweep',
      failure: 'test sweep failed',
      everyMs: options.everyMs,
      firstAfterMs: options.firstAfterMs,
      work: () => {
        runs.push(Date.now());
        return options.hold ? new Promise<void>((resolve) => (finish = resolve)) : Promise.resolve();
      },
    });
    return { sweep, runs, finishRound: () => finish?.() };
  }

  it('sweeps first after firstAfterMs, then every everyMs', async () => {
    const start = Date.now();
    const { sweep, runs } = sweepCounting({ everyMs: 1_000, firstAfterMs: 100 });
    sweep.start();
    await jest.advanceTimersByTimeAsync(99);
    expect(runs).toEqual([]);
    await jest.advanceTimersByTimeAsync(2_001);
    expect(runs.map((at) => at - start)).toEqual([100, 1_100, 2_100]);
    await sweep.stop();
  });

  it('first sweeps after everyMs when no firstAfterMs is given', async () => {
    const start = Date.now();
    const { sweep, runs } = sweepCounting({ everyMs: 500 });
    sweep.start();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runs.map((at) => at - start)).toEqual([500, 1_000]);
    await sweep.stop();
  });

  it('never starts a round while one is under way, and waits for it on stop; none after', async () => {
    const { sweep, runs, finishRound } = sweepCounting({ everyMs: 100, firstAfterMs: 100, hold: true });
    sweep.start();
    await jest.advanceTimersByTimeAsync(550); // the first round is still under way
    expect(runs).toHaveLength(1);
    let stopped = false;
    const stopping = sweep.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finishRound();
    await stopping;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runs).toHaveLength(1);
  });

  it('stopped before its first round, it never sweeps', async () => {
    const { sweep, runs } = sweepCounting({ everyMs: 100, firstAfterMs: 50 });
    sweep.start();
    await sweep.stop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runs).toEqual([]);
  });
});
