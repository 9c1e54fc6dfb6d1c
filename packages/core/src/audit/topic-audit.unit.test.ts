import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTopic } from '../contracts/define-topic.js';
import { encodeEnvelope } from '../envelope/codec.js';
import type { SequenceKind } from '../envelope/envelope.js';
import type { ListedOutboxRow } from '../outbox/outbox-store.js';
import { createMemoryTransport } from '../transport/memory/memory-transport.js';
import type { ConsumedRecord } from '../transport/records.js';
import type { AuditProblemKind, AuditReport } from './audit-report.js';
import { auditTopic } from './audit-topic.js';
import { TopicAudit } from './topic-audit.js';

const TOPIC = 'orders';
const SOURCE = 'urn:service:orders';

interface Ev {
  key: string;
  sequence: number;
  id?: string;
  kind?: SequenceKind | null;
}

const idOf = (e: Ev) => e.id ?? `${e.key}-${e.sequence}`;

function value(e: Ev): string {
  return encodeEnvelope({
    specversion: '1.0',
    id: idOf(e),
    source: SOURCE,
    type: 'order.placed',
    time: '2026-12-07T00:00:00.000Z',
    subject: e.key,
    datacontenttype: 'application/json',
    dataschema: 'urn:sluice:contract:order.placed:v1',
    partitionkey: e.key,
    sluiceseq: e.sequence,
    ...(e.kind === null ? {} : { sluiceseqkind: e.kind ?? 'counter' }),
    data: {},
  });
}

/** The records as one partition would store them, in the order given. */
function records(events: readonly Ev[]): ConsumedRecord[] {
  return events.map((e, i) => ({
    topic: TOPIC,
    partition: 0,
    offset: String(i),
    key: e.key,
    value: value(e),
    headers: {},
    timestamp: 0,
  }));
}

function row(e: Ev, delivered = true, position = e.sequence): ListedOutboxRow {
  return { position, id: idOf(e), source: SOURCE, key: e.key, sequence: e.sequence, delivered };
}

function audit(
  events: readonly Ev[],
  options: { outbox?: readonly ListedOutboxRow[]; fromStart?: boolean } = {},
): AuditReport {
  const a = new TopicAudit({ topic: TOPIC, fromStart: options.fromStart ?? false });
  if (options.outbox) a.outboxRows(options.outbox);
  for (const r of records(events)) a.record(r);
  return a.report();
}

function kinds(report: AuditReport): [AuditProblemKind, string, string | undefined, number | undefined][] {
  return report.problems.map((p) => [p.kind, p.key, p.expected, p.received]);
}

const chain = (key: string, ...sequences: number[]): Ev[] => sequences.map((sequence) => ({ key, sequence }));

describe('TopicAudit', () => {
  it('finds nothing wrong with gap-free, ascending keys interleaved', () => {
    const report = audit([...chain('a', 1, 2), ...chain('b', 1), ...chain('a', 3), ...chain('b', 2, 3)]);
    assert.deepEqual(report.problems, []);
    assert.equal(report.failed, false);
    assert.equal(report.records, 6);
    assert.equal(report.keys, 2);
    assert.equal(report.events, 6);
    assert.equal(report.outboxRows, null);
  });

  it('reports a gap in a counter key as missing, once per run of sequences', () => {
    const report = audit([...chain('a', 1, 2, 4, 5, 8), ...chain('b', 1, 2, 3)]);
    assert.deepEqual(kinds(report), [
      ['missing', 'a', '3', undefined],
      ['missing', 'a', '6-7', undefined],
    ]);
    assert.equal(report.failed, true);
    assert.equal(report.counts.missing, 2);
  });

  it('checks sequences below the first seen only when the topic is read from its true start', () => {
    assert.deepEqual(kinds(audit(chain('a', 3, 4))), []);
    assert.deepEqual(kinds(audit(chain('a', 3, 4), { fromStart: true })), [
      ['missing', 'a', '1-2', undefined],
    ]);
  });

  it('reports a counter event first appearing after a higher one as out of order', () => {
    const report = audit(chain('k', 1, 3, 2));
    assert.deepEqual(kinds(report), [['out-of-order', 'k', '4', 2]]);
    assert.deepEqual(report.problems[0]!.ids, ['k-2']);
    assert.deepEqual(report.problems[0]!.at, [{ partition: 0, offset: '2' }]);
    assert.equal(report.failed, true);
  });

  it('allows positions to skip and repeat, and reports only a decrease', () => {
    const positions = (key: string, ...ps: number[]): Ev[] =>
      ps.map((sequence, i) => ({ key, sequence, id: `${key}#${i}`, kind: 'position' }));
    assert.deepEqual(kinds(audit(positions('p', 10, 10, 40, 41))), []);
    assert.deepEqual(kinds(audit(positions('p', 10, 40, 30))), [['out-of-order', 'p', '>= 40', 30]]);
  });

  it('reads an event without sequencekind as a position', () => {
    const legacy = (sequence: number, id: string): Ev => ({ key: 'l', sequence, id, kind: null });
    assert.deepEqual(kinds(audit([legacy(1, 'x'), legacy(5, 'y')])), []);
  });

  it('reports a re-sent event as a duplicate without failing, and a re-sent earlier event is not out of order', () => {
    const report = audit([...chain('a', 1, 2), { key: 'a', sequence: 1 }, ...chain('a', 3)]);
    assert.deepEqual(kinds(report), [['duplicate', 'a', undefined, 1]]);
    assert.deepEqual(report.problems[0]!.at, [
      { partition: 0, offset: '0' },
      { partition: 0, offset: '2' },
    ]);
    assert.equal(report.counts.duplicate, 1);
    assert.equal(report.failed, false);
  });

  it('reports two ids with one counter sequence as a reused sequence, which fails', () => {
    const report = audit([...chain('a', 1, 2), { key: 'a', sequence: 2, id: 'other' }]);
    assert.deepEqual(kinds(report), [['sequence-reused', 'a', undefined, 2]]);
    assert.deepEqual(report.problems[0]!.ids, ['a-2', 'other']);
    assert.equal(report.failed, true);
  });

  it('reports a record that is not an envelope as unreadable', () => {
    const a = new TopicAudit({ topic: TOPIC });
    a.record({ ...records(chain('a', 1))[0]!, value: 'not json' });
    a.record({ ...records(chain('a', 1))[0]!, value: null });
    const report = a.report();
    assert.deepEqual(
      report.problems.map((p) => p.kind),
      ['unreadable'],
    );
    assert.equal(report.tombstones, 1);
    assert.equal(report.failed, true);
  });

  describe('with the outbox', () => {
    it('reports a delivered row whose event is not on the topic, and names the id of a gap', () => {
      const events = chain('a', 1, 2, 3, 4);
      const outbox = events.map((e) => row(e));
      const report = audit([events[0]!, events[2]!], { outbox });
      assert.deepEqual(kinds(report), [
        ['missing', 'a', '2', undefined],
        ['missing', 'a', '4', undefined],
      ]);
      assert.deepEqual(
        report.problems.map((p) => p.ids),
        [['a-2'], ['a-4']],
      );
      assert.equal(report.outboxRows, 4);
    });

    it("reports delivered rows before a key's first event on the topic only when it is read from its start", () => {
      const outbox = chain('a', 1, 2, 3, 4).map((e) => row(e));
      const onTopic = chain('a', 3, 4);
      assert.deepEqual(kinds(audit(onTopic, { outbox })), [], 'retention may have removed 1 and 2');
      assert.deepEqual(kinds(audit([], { outbox })), [], 'retention may have removed all of them');
      assert.deepEqual(kinds(audit(onTopic, { outbox, fromStart: true })), [
        ['missing', 'a', '1-2', undefined],
      ]);
      assert.deepEqual(kinds(audit([], { outbox, fromStart: true })).length, 4);
    });

    it('does not report pending rows that are not on the topic yet', () => {
      const events = chain('a', 1, 2);
      const report = audit([events[0]!], { outbox: [row(events[0]!), row(events[1]!, false)] });
      assert.deepEqual(kinds(report), []);
    });

    it("reports an event the outbox does not have within the outbox's rows of that key as invented", () => {
      const outbox = chain('a', 3, 4, 5).map((e) => row(e));
      const report = audit(
        [...chain('a', 1, 2, 3), { key: 'a', sequence: 4, id: 'ghost' }, ...chain('a', 5, 6)],
        {
          outbox,
        },
      );
      assert.deepEqual(kinds(report), [
        ['missing', 'a', '4', undefined],
        ['invented', 'a', undefined, 4],
      ]);
      assert.deepEqual(report.problems[1]!.ids, ['ghost']);
      // 1 and 2 are older than the outbox's oldest row of the key, 6 newer than its newest: not judged.
      assert.match(report.notes.join('\n'), /1 key\(s\) have events older than the outbox's oldest row/);
    });

    it('with a complete outbox, reports every event it does not have as invented, whatever its sequence', () => {
      const events = chain('a', 1, 2);
      const extra: Ev[] = [
        { key: 'a', sequence: 3 },
        { key: 'b', sequence: 1 },
        { key: 'p', sequence: 9, kind: 'position' },
      ];
      const a = new TopicAudit({ topic: TOPIC, outboxComplete: true });
      a.outboxRows(events.map((e) => row(e)));
      for (const r of records([...events, ...extra])) a.record(r);
      assert.deepEqual(
        a.report().problems.map((p) => [p.kind, p.key, p.received]),
        [
          ['invented', 'a', 3],
          ['invented', 'b', 1],
          ['invented', 'p', 9],
        ],
      );
      // Without it, none of them is judged: the outbox holds no row at or after them.
      assert.deepEqual(kinds(audit([...events, ...extra], { outbox: events.map((e) => row(e)) })), []);
    });

    it("reports delivered sequences missing at a key's end from the outbox's counter, rows deleted or not", () => {
      const a = new TopicAudit({ topic: TOPIC });
      // a: counted 5, nothing pending, so 1-5 were delivered; 4-5 are not on the topic.
      // b: counted 6, 5 and 6 pending, so 1-4 were delivered; 4 is not on the topic (its row archived: named).
      // c: counted 2, all there. d: counted 3, nothing on the topic (retention may have removed it all).
      a.outboxChains([
        { source: SOURCE, key: 'a', appended: 5 },
        { source: SOURCE, key: 'b', appended: 6 },
        { source: SOURCE, key: 'c', appended: 2 },
        { source: SOURCE, key: 'd', appended: 3 },
      ]);
      a.outboxRows([
        row({ key: 'b', sequence: 4 }),
        row({ key: 'b', sequence: 5 }, false),
        row({ key: 'b', sequence: 6 }, false),
      ]);
      for (const r of records([...chain('a', 1, 2, 3), ...chain('b', 1, 2, 3), ...chain('c', 1, 2)]))
        a.record(r);
      const report = a.report();
      assert.deepEqual(
        report.problems.map((p) => [p.kind, p.key, p.expected, p.ids]),
        [
          ['missing', 'a', '4-5', []],
          ['missing', 'b', '4', ['b-4']],
        ],
      );
      assert.match(
        report.problems[0]!.message,
        /delivered \(the outbox counted 5\) but not on the topic: the key's last event there is 3/,
      );
      assert.match(report.notes.join('\n'), /1 key\(s\) the outbox delivered have no event on the topic/);
    });

    it('from the start, a key the outbox delivered with no event on the topic is missing entirely', () => {
      const a = new TopicAudit({ topic: TOPIC, fromStart: true });
      a.outboxChains([{ source: SOURCE, key: 'd', appended: 3 }]);
      assert.deepEqual(kinds(a.report()), [['missing', 'd', '1-3', undefined]]);
    });

    it('says what it could not check without an outbox', () => {
      assert.match(audit(chain('a', 1)).notes.join('\n'), /no outbox given/);
    });
  });
});

describe('auditTopic', () => {
  it('reads every partition of a topic with an ephemeral reader and compares the outbox', async () => {
    const transport = createMemoryTransport();
    try {
      await transport.ensureTopic(defineTopic({ name: TOPIC, kind: 'event', partitions: 3 }));
      const events = [...chain('a', 1, 2, 4), ...chain('b', 1, 3, 2), ...chain('c', 1, 2)];
      await transport.publish(
        events.map((e) => ({ topic: TOPIC, key: e.key, value: value(e), id: idOf(e) })),
      );
      const rows = [...chain('c', 1, 2, 3)].map((e, i) => row(e, true, i + 1));
      const progress: string[] = [];
      const report = await auditTopic(transport, {
        topic: TOPIC,
        outbox: {
          name: 'listed',
          listRows: async (topic: string, cursor: string | undefined, limit: number) => {
            assert.equal(topic, TOPIC);
            const from = cursor === undefined ? 0 : Number(cursor);
            const page = rows.slice(from, from + limit);
            return { rows: page, cursor: page.length < limit ? undefined : String(from + limit) };
          },
        } as never,
        idleMs: 50,
        batchSize: 2,
        onProgress: (p) => progress.push(p.phase),
      });
      assert.deepEqual(
        kinds(report).sort(),
        [
          ['missing', 'a', '3', undefined],
          ['missing', 'c', '3', undefined],
          ['out-of-order', 'b', '4', 2],
        ].sort(),
      );
      assert.equal(report.records, 8);
      assert.equal(report.keys, 3);
      assert.ok(progress.includes('outbox') && progress.includes('topic'), progress.join());
    } finally {
      await transport.close();
    }
  });
});
