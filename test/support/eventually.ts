/**
 * Polls `probe` until it returns without throwing (and, with `until`, until that holds), or the
 * timeout passes; then fails with the last error. The way tests wait: never a fixed sleep.
 */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  options: { timeoutMs?: number; intervalMs?: number; until?: (value: T) => boolean; what?: string } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const intervalMs = options.intervalMs ?? 25;
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (!options.until || options.until(value)) {
        return value;
      }
      lastError = new Error(`condition not met; last value: ${JSON.stringify(value)?.slice(0, 2_000)}`);
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - started > timeoutMs) {
      const message = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(
        `eventually${options.what ? ` (${options.what})` : ''}: gave up after ${timeoutMs} ms: ${message}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
