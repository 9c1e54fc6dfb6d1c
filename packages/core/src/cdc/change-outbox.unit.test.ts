import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineEvent } from '../contracts/define-event.js';
import { defineKey } from '../contracts/define-key.js';
import { defineTopic } from '../contracts/define-topic.js';
import { decodeEnvelope } from '../envelope/codec.js';
import { SluiceError } from '../errors.js';
import { createRelay } from '../relay/relay.js';
import { MemoryChangeLog } from '../testing/memory-change-source.js';
import { createMemoryTransport } from '../transport/memory/memory-transport.js';
import { sleep } from '../util/sleep.js';
import { type ChangeMapping, mapped } from './change-mapping.js';
import { changeEventId, createChangeOutbox } from './change-outbox.js';
import type { RowChange } from './row-change.js';

const CourseId = defineKey('courseId', z.string().regex(/^c-\d+$/), { description: 'a course' });
const courses = defineTopic({ name: 'courses', kind: 'event', partitions: 4 });
const CoursePublished = defineEvent({
  type: 'course.published',
  version: 1,
  key: CourseId,
  topic: courses,
  description: 'a course became visible to students',
  schema: z.object({ courseId: z.string(), title: z.string().min(1) }),
});
const CourseUpdated = defineEvent({
  type: 'course.updated',
  version: 1,
  key: CourseId,
  topic: courses,
  description: 'a published course changed',
  schema: z.object({ courseId: z.string(), title: z.string().min(1) }),
});

let seq = 0;
/**
 * A row change of the legacy `courses` table (columns id, title, published), in a transaction of its own unless
 * `inTransaction` gives the transaction's sequence and the change's index in it.
 */
function change(
  operation: RowChange['operation'],
  id: number,
  after: { title: string; published: boolean } | undefined,
  inTransaction?: { sequence: number; index: number },
): RowChange {
  if (inTransaction === undefined) seq += 10;
  const sequence = inTransaction?.sequence ?? seq;
  const index = inTransaction?.index ?? 0;
  return {
    operation,
    schema: 'legacy',
    table: 'courses',
    before: operation === 'insert' ? undefined : { id },
    after: after === undefined ? undefined : { id, ...after },
    transactionId: `tx-${sequence}`,
    commitTime: 1_700_000_000_000 + sequence,
    position: `lsn-${sequence}-${index}`,
    sequence,
    index,
  };
}

/** Unpublished rows and deletes map to nothing; a published insert to course.published, an update to course.updated. */
const map: ChangeMapping = (c) => {
  const row = c.after as { id: number; title: string; published: boolean } | undefined;
  if (row === undefined || !row.published) return [];
  const data = { courseId: `c-${row.id}`, title: row.title };
  return c.operation === 'insert' ? [mapped(CoursePublished, data)] : [mapped(CourseUpdated, data)];
};

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('changeOutbox: a change source shipped by the relay', () => {
  it('maps changes to contract events, ships them in order per key and acknowledges the source behind them', async () => {
    const log = new MemoryChangeLog();
    const committed: RowChange[] = [];
    for (let round = 0; round < 20; round++) {
      for (let id = 1; id <= 5; id++) {
        const c = change(round === 0 ? 'insert' : 'update', id, { title: `t${round}`, published: id !== 5 });
        committed.push(c);
        log.commit(c);
      }
    }
    const transport = createMemoryTransport();
    const outbox = createChangeOutbox({
      source: log.reader('pg:courses'),
      map,
      eventSource: 'urn:service:legacy',
    });
    const relay = createRelay({ outbox, transport, topics: [courses], batchSize: 7, idleWaitMs: 20 });
    relay.start();
    const onBus = async () => transport.read(courses.name, { to: 'earliest' }, 10_000);
    await until(async () => (await onBus()).length === 80); // course 5 is never published
    await until(() => log.acknowledged === committed.at(-1)!.position);
    await relay.stop();

    const events = (await onBus()).map((r) => ({ key: r.key, envelope: decodeEnvelope(r.value) }));
    const byKey = new Map<string, typeof events>();
    for (const e of events) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
    assert.deepEqual([...byKey.keys()].sort(), ['c-1', 'c-2', 'c-3', 'c-4']);
    for (const [key, list] of byKey) {
      assert.deepEqual(
        list.map((e) => (e.envelope.data as { title: string }).title),
        Array.from({ length: 20 }, (_, i) => `t${i}`),
        `${key}: every change, in commit order`,
      );
      assert.equal(list[0]!.envelope.type, 'course.published');
      assert.ok(list.slice(1).every((e) => e.envelope.type === 'course.updated'));
      const sequences = list.map((e) => e.envelope.sluiceseq);
      assert.deepEqual(
        sequences,
        [...sequences].sort((a, b) => a - b),
        `${key}: sequences increase`,
      );
    }
    // Ids come from the source's name and the change, times from the commit, the source from the options.
    const first = committed[0]!;
    const e = events.find((x) => x.envelope.id === changeEventId('pg:courses', first.sequence, 0, 0));
    assert.ok(e, 'the first change has its derived id');
    assert.equal(e.envelope.time, new Date(first.commitTime).toISOString());
    assert.equal(e.envelope.source, 'urn:service:legacy');
  });

  it('acknowledges the source only up to the last change whose events and all earlier ones are delivered', async () => {
    const log = new MemoryChangeLog();
    const a = change('insert', 1, { title: 'a', published: true });
    const hidden = change('insert', 2, { title: 'hidden', published: false }); // maps to nothing
    const b = change('insert', 3, { title: 'b', published: true });
    log.commit(a, hidden, b);
    const outbox = createChangeOutbox({ source: log.reader(), map, eventSource: 'urn:service:legacy' });
    const { rows } = await outbox.readPending(undefined, 10);
    assert.equal(rows.length, 2);
    assert.equal(log.acknowledged, undefined, 'nothing is delivered yet');

    await outbox.acknowledge([rows[1]!]); // b first: a is still out, so the source stays put
    assert.equal(log.acknowledged, undefined);
    await outbox.acknowledge([rows[0]!]); // now a, the change that maps to nothing, and b
    assert.equal(log.acknowledged, b.position);
    await outbox.acknowledge([rows[0]!]); // idempotent
    assert.equal(log.acknowledgements.length, 1);
  });

  it('after a crash, reads again from the acknowledged change and gives the same events the same ids', async () => {
    const log = new MemoryChangeLog();
    for (let id = 1; id <= 6; id++) log.commit(change('insert', id, { title: `t${id}`, published: true }));
    const first = createChangeOutbox({ source: log.reader('src'), map, eventSource: 'urn:service:legacy' });
    const before = (await first.readPending(undefined, 10)).rows;
    await first.acknowledge(before.slice(0, 2));
    // The process dies here: the other four were perhaps published, but never acknowledged.
    const again = createChangeOutbox({ source: log.reader('src'), map, eventSource: 'urn:service:legacy' });
    const after = (await again.readPending(undefined, 10)).rows;
    assert.deepEqual(
      after.map((r) => [r.id, r.value]),
      before.slice(2).map((r) => [r.id, r.value]),
    );
  });

  it('gives the events of one transaction its sequence and an id per change', async () => {
    const log = new MemoryChangeLog();
    seq += 10;
    const tx = { sequence: seq };
    log.commit(
      change('insert', 7, { title: 'a', published: true }, { ...tx, index: 0 }),
      change('update', 7, { title: 'b', published: true }, { ...tx, index: 1 }),
    );
    const outbox = createChangeOutbox({ source: log.reader('src'), map, eventSource: 'urn:service:legacy' });
    const { rows } = await outbox.readPending(undefined, 10);
    const envelopes = rows.map((r) => decodeEnvelope(r.value));
    assert.deepEqual(
      envelopes.map((e) => [e.type, e.sluiceseq, e.id]),
      [
        ['course.published', tx.sequence, changeEventId('src', tx.sequence, 0, 0)],
        ['course.updated', tx.sequence, changeEventId('src', tx.sequence, 1, 0)],
      ],
    );
    assert.notEqual(envelopes[0]!.id, envelopes[1]!.id);
  });

  it('serves the same rows again when the relay reads from an earlier cursor (a failed publish)', async () => {
    const log = new MemoryChangeLog();
    for (let id = 1; id <= 4; id++) log.commit(change('insert', id, { title: `t${id}`, published: true }));
    const outbox = createChangeOutbox({ source: log.reader(), map, eventSource: 'urn:service:legacy' });
    const one = await outbox.readPending(undefined, 2);
    const two = await outbox.readPending(one.cursor, 2);
    const retried = await outbox.readPending(one.cursor, 2);
    assert.deepEqual(
      retried.rows.map((r) => r.id),
      two.rows.map((r) => r.id),
    );
    assert.equal((await outbox.readPending(two.cursor, 2)).rows.length, 0);
  });

  it('stops the relay with the change named when a mapping throws or breaks its contract (never skips it)', async () => {
    for (const [bad, reason] of [
      [
        () => {
          throw new Error('no title column');
        },
        /no title column/,
      ],
      [() => [mapped(CoursePublished, { courseId: 'c-1', title: '' })], /title/],
      [() => [mapped(CoursePublished, { courseId: 'not-a-course', title: 'x' })], /courseId/],
    ] as const) {
      const log = new MemoryChangeLog();
      const c = change('insert', 1, { title: 'x', published: true });
      log.commit(c);
      const outbox = createChangeOutbox({
        source: log.reader(),
        map: bad,
        eventSource: 'urn:service:legacy',
      });
      const relay = createRelay({ outbox, transport: createMemoryTransport(), topics: [courses] });
      relay.start();
      const error = await relay.done.then(
        () => assert.fail('the relay should stop'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof SluiceError);
      assert.equal(error.code, 'SLUICE_CHANGE_MAPPING_FAILED');
      assert.match(error.message, new RegExp(`insert on legacy.courses at ${c.position}`));
      assert.match(error.message, reason);
      assert.equal(log.acknowledged, undefined, 'the change is not acknowledged');
    }
  });
});

describe('changeOutbox: deprecated contract versions', () => {
  it('warns once per version when changes map to a version deprecated at their commit time', async () => {
    const CourseRenamed = defineEvent({
      type: 'course.renamed',
      version: 1,
      key: CourseId,
      topic: courses,
      description: 'a course got a new title',
      schema: z.object({ courseId: z.string(), title: z.string().min(1) }),
      deprecated: { since: '2023-01-01', replacedBy: 2 },
    });
    const log = new MemoryChangeLog();
    for (let id = 1; id <= 3; id++) log.commit(change('update', id, { title: `t${id}`, published: true }));
    const warnings: string[] = [];
    const outbox = createChangeOutbox({
      source: log.reader('pg:courses'),
      map: (c) => [mapped(CourseRenamed, { courseId: `c-${(c.after as { id: number }).id}`, title: 'x' })],
      eventSource: 'urn:service:legacy',
      logger: { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} },
    });
    const { rows } = await outbox.readPending(undefined, 10);
    assert.equal(rows.length, 3);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /course\.renamed v1, deprecated since 2023-01-01: publish v2 instead/);
    await outbox.close();
  });
});
