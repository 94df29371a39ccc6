/**
 * Checks `done` now and then every `everyMs` until it holds or `timeoutMs` has passed; whether it
 * held. For the embedded server's waits on other processes (its lock file, its users, a draft),
 * which say nothing when they change.
 */
export async function pollUntil(done: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolveWait) => setTimeout(resolveWait, everyMs));
  }
}
