import { type AuditProblemKind, auditTopic } from '@sluice/core';
import type { ListedOutboxRow } from '@sluice/core/adapter';
import { createLogTransport } from '@sluice/sqlite';

/** What the embedded log holds for one topic, checked against what was committed. */
export interface BusAudit {
  /** Records read (re-sends included). */
  readonly records: number;
  /** Records whose event had been published before (a relay sent it again; consumers skip it). */
  readonly resent: number;
  /** One message per kind of problem: a key's event first published before its predecessor, a committed event never published, an event never committed published. */
  readonly problems: string[];
}

const KINDS: Readonly<Record<Exclude<AuditProblemKind, 'duplicate'>, string>> = {
  missing: 'committed events were never published (or a key skipped sequences)',
  'out-of-order': 'events were first published out of sequence order',
  invented: 'published events were never committed',
  'sequence-reused': 'events carry a sequence another event of their key has',
  unreadable: 'records are not Sluice events',
};

/**
 * Reads the whole `topic` of the embedded log at `busPath` with `auditTopic` (the check behind `sluice audit`:
 * an ephemeral reader, no group, nothing committed) and checks the relay's side of the guarantees against
 * the `committed` ledger (event id to key and sequence, every event appended by `source`): each key's events
 * appear for the first time in sequence order (re-sends of earlier ones are allowed), every committed event
 * is there, nothing else is. Tells a relay fault from a consumer fault when a consumer's ledger is wrong.
 */
export async function auditBus(
  busPath: string,
  topic: string,
  committed: ReadonlyMap<string, { key: string; sequence: number }>,
  source = 'urn:service:enrollments',
): Promise<BusAudit> {
  const rows: ListedOutboxRow[] = [...committed].map(([id, e], i) => ({
    position: i + 1,
    id,
    source,
    key: e.key,
    sequence: e.sequence,
    delivered: true,
  }));
  const bus = createLogTransport({ path: busPath });
  try {
    const report = await auditTopic(bus, {
      topic,
      outbox: {
        name: 'committed ledger',
        listRows: async () => ({ rows, cursor: undefined }),
      },
      outboxComplete: true,
      fromStart: true,
      idleMs: 200,
    });
    const problems: string[] = [];
    for (const [kind, what] of Object.entries(KINDS) as [keyof typeof KINDS, string][]) {
      const found = report.problems.filter((p) => p.kind === kind);
      if (found.length === 0) continue;
      problems.push(
        `${found.length} ${what} (${found
          .slice(0, 3)
          .map((p) => `key ${p.key}: ${p.message}`)
          .join('; ')}${found.length > 3 ? '; ...' : ''})`,
      );
    }
    return { records: report.records, resent: report.counts.duplicate, problems };
  } finally {
    await bus.close();
  }
}
