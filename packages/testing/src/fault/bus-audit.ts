import { decodeEnvelope } from '@sluice/core';
import { createLogTransport } from '@sluice/sqlite';

/** What the embedded log holds for one topic, checked against what was committed. */
export interface BusAudit {
  /** Records read (re-sends included). */
  readonly records: number;
  /** Records whose event had been published before (a relay sent it again; consumers skip it). */
  readonly resent: number;
  /** One message per problem: a key's event first published before its predecessor, a committed event never published, an event never committed published. */
  readonly problems: string[];
}

/**
 * Reads the whole `topic` of the embedded log at `busPath` (an ephemeral reader: no group, nothing committed)
 * and checks the relay's side of the guarantees: each key's events appear for the first time in sequence
 * order (1, 2, 3...; re-sends of earlier ones are allowed), every committed event is there, nothing else is.
 * Tells a relay fault from a consumer fault when a consumer's ledger is wrong.
 */
export async function auditBus(
  busPath: string,
  topic: string,
  committed: ReadonlyMap<string, { key: string; sequence: number }>,
): Promise<BusAudit> {
  const bus = createLogTransport({ path: busPath });
  const seen = new Set<string>();
  const lastFirst = new Map<string, number>(); // key -> highest sequence published so far
  const outOfOrder: string[] = [];
  const invented: string[] = [];
  let records = 0;
  let resent = 0;
  try {
    const sub = await bus.subscribe({ group: 'audit', topics: [topic], ephemeral: true });
    try {
      for (;;) {
        const batch = await sub.poll({ maxRecords: 1000, maxWaitMs: 200 });
        if (batch.length === 0) break;
        for (const record of batch) {
          records++;
          const envelope = decodeEnvelope(record.value);
          if (seen.has(envelope.id)) {
            resent++;
            continue;
          }
          seen.add(envelope.id);
          if (!committed.has(envelope.id)) invented.push(envelope.id);
          const last = lastFirst.get(envelope.subject) ?? 0;
          if (envelope.sequence !== last + 1) {
            outOfOrder.push(
              `key ${envelope.subject}: sequence ${envelope.sequence} first published after ${last}`,
            );
          }
          lastFirst.set(envelope.subject, Math.max(last, envelope.sequence));
        }
      }
    } finally {
      await sub.close();
    }
  } finally {
    await bus.close();
  }
  const problems: string[] = [];
  if (outOfOrder.length > 0) {
    problems.push(
      `${outOfOrder.length} events first published out of sequence order or after a gap (${outOfOrder.slice(0, 3).join('; ')}${outOfOrder.length > 3 ? '; ...' : ''})`,
    );
  }
  const missing = [...committed.keys()].filter((id) => !seen.has(id));
  if (missing.length > 0) {
    problems.push(`${missing.length} committed events were never published (first: ${missing[0]})`);
  }
  if (invented.length > 0) {
    problems.push(`${invented.length} published events were never committed (first: ${invented[0]})`);
  }
  return { records, resent, problems };
}
