/**
 * Runs `run` and reports how long it took (until its promise settles, if it returns one) to `record`, also
 * when it throws. For handler durations: handlers may be synchronous (better-sqlite3) or asynchronous.
 */
export function timed<T>(run: () => T, record: (ms: number) => void): T {
  const started = performance.now();
  let result: T;
  try {
    result = run();
  } catch (error) {
    record(performance.now() - started);
    throw error;
  }
  if (result instanceof Promise) {
    return result.finally(() => record(performance.now() - started)) as T;
  }
  record(performance.now() - started);
  return result;
}
