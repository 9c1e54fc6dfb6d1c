/**
 * Resolves when a function added to `waiters` is called (a wake-up: call every one in the set), after
 * `timeoutMs` (on the next timer turn when 0), or when `signal` aborts, whichever is first; at once if `signal`
 * has already aborted. It removes itself from `waiters` either way, then calls `onSettled` (e.g. to
 * stop a ticker nobody needs any more). Never rejects. The one wait-with-timeout-and-abort of the code base:
 * transports, outboxes and runtimes wait through it (`sleep` is this without waiters).
 */
export function waitForWake(
  waiters: Set<() => void> | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
  onSettled?: () => void,
): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiters?.delete(done);
      signal?.removeEventListener('abort', done);
      onSettled?.();
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, timeoutMs));
    waiters?.add(done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
