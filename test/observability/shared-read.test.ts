import { sharedRead } from '@infra/observability';

describe('a read shared by scrapes', () => {
  it('shares a read still running however old it is, then reads again once it settled and aged', async () => {
    // The clock stands still: every read and every answer happens in one millisecond, as a probe
    // asked again at once does on a fast machine.
    const clock = jest.spyOn(Date, 'now').mockReturnValue(1_796_000_000_000);
    try {
      let reads = 0;
      const pending: Array<(value: number) => void> = [];
      const read = sharedRead(() => {
        reads += 1;
        return new Promise<number>((resolve) => pending.push(resolve));
      }, 0); // every settled answer is already stale

      const first = read();
      const second = read(); // the first is still running: shared, not piled on
      expect(reads).toBe(1);
      pending[0](7);
      await expect(Promise.all([first, second])).resolves.toEqual([7, 7]);

      // Fails when a settled answer is served again within the millisecond it settled in.
      const third = read();
      expect(reads).toBe(2);
      pending[1](8);
      await expect(third).resolves.toBe(8);
    } finally {
      clock.mockRestore();
    }
  });

  it('does not remember a failure', async () => {
    let reads = 0;
    const read = sharedRead(async () => {
      reads += 1;
      if (reads === 1) throw new Error('database gone');
      return 1;
    }, 60_000);
    await expect(read()).rejects.toThrow('database gone');
    await expect(read()).resolves.toBe(1);
    expect(reads).toBe(2);
  });
});
