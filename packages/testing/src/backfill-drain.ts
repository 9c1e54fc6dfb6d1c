import type { ChangeSource, RowChange } from '@sluice/core';

/**
 * Reads `source` as a relay would, acknowledging each batch, handing every change to `onChange` and keeping it
 * in `seen`: until `until()` holds (checked after every read), or with `'quiet'` until a read finds nothing.
 */
export async function drainChanges(
  source: ChangeSource,
  onChange: (change: RowChange) => void,
  until: (() => Promise<boolean>) | 'quiet',
  seen: RowChange[],
): Promise<void> {
  for (;;) {
    const changes = await source.read(500, 300);
    for (const c of changes) onChange(c);
    seen.push(...changes);
    if (changes.length > 0) await source.acknowledge(changes.at(-1)!.position);
    if (until === 'quiet' ? changes.length === 0 : await until()) return;
  }
}

/** How many live (not snapshot) changes came between a backfill's first and last snapshot rows in `seen`. */
export function liveChangesInsideBackfill(seen: readonly RowChange[]): number {
  const first = seen.findIndex((c) => c.operation === 'snapshot');
  const last = seen.findLastIndex((c) => c.operation === 'snapshot');
  return seen.slice(first, last).filter((c) => c.operation !== 'snapshot').length;
}

/**
 * `count` loops each calling `write(loop, n)` (n counts every loop's writes) until stopped; `stop` waits for the
 * writes under way and resolves how many there were. A failing write fails `stop`.
 */
export function startWriteLoops(
  count: number,
  write: (loop: number, n: number) => Promise<void>,
): { stop(): Promise<number> } {
  let running = true;
  let writes = 0;
  const loops = Array.from({ length: count }, async (_, loop) => {
    while (running) await write(loop, writes++);
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return writes;
    },
  };
}
