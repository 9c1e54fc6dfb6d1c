/**
 * Resolves when a function added to `waiters` is called (a wake-up: call every one in the set), after
 * `timeoutMs`, or when `signal` aborts, whichever is first; it removes itself from `waiters` either way.
 */
export function waitForWake(
  waiters: Set<() => void>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiters.delete(done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    waiters.add(done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
