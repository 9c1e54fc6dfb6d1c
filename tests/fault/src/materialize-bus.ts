import { decodeEnvelope, type Envelope } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { createLogTransport } from '@sluice/sqlite';

/** A topic of the embedded log replayed into a state, as a consumer with an inbox would apply it. */
export interface MaterializedBus<V> {
  readonly state: Map<string, V>;
  /** One message per key whose events' sequences went backwards. */
  readonly orderViolations: string[];
  /** Records read (re-sends included) and distinct events applied. */
  readonly records: number;
  readonly distinct: number;
}

/**
 * Replays the whole `topic` of the embedded log at `busPath` into a fresh state, again every 250 ms until
 * `done(state)` or `timeoutMs` (the last relay catching up): each event is applied once (`apply`, in log
 * order; re-sent event ids are skipped as an inbox would), and a key whose sequence goes backwards is noted.
 */
export async function materializeBus<V>(
  busPath: string,
  topic: string,
  apply: (state: Map<string, V>, key: string, envelope: Envelope) => void,
  done: (state: ReadonlyMap<string, V>) => boolean,
  timeoutMs = 60_000,
): Promise<MaterializedBus<V>> {
  const bus = createLogTransport({ path: busPath });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const records = await bus.read(topic, { to: 'earliest' }, 10_000_000);
      const applied = new Set<string>();
      const lastSequence = new Map<string, number>();
      const state = new Map<string, V>();
      const orderViolations: string[] = [];
      for (const r of records) {
        const e = decodeEnvelope(r.value);
        if (applied.has(e.id)) continue; // an inbox skips what a killed relay left to be read again
        applied.add(e.id);
        const previous = lastSequence.get(r.key) ?? 0;
        if (e.sluiceseq < previous) orderViolations.push(`${r.key}: ${previous} then ${e.sluiceseq}`);
        lastSequence.set(r.key, e.sluiceseq);
        apply(state, r.key, e);
      }
      if (done(state) || Date.now() > deadline) {
        return { state, orderViolations, records: records.length, distinct: applied.size };
      }
      await sleep(250);
    }
  } finally {
    await bus.close();
  }
}
