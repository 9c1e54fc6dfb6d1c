/**
 * Runs `send` for every item with up to `window` sends outstanding (issued in order), resolving when all
 * resolved: how the brokers' clients reach their best publish rates with every acknowledgement awaited.
 */
export async function publishWindow<T>(
  items: readonly T[],
  window: number,
  send: (item: T) => Promise<unknown>,
): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  let failure: unknown;
  for (const item of items) {
    if (failure !== undefined) break;
    const p: Promise<void> = send(item).then(
      () => {
        inFlight.delete(p);
      },
      (error: unknown) => {
        failure ??= error;
        inFlight.delete(p);
      },
    );
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
}
