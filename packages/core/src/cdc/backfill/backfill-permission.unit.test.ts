import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineEvent } from '../../contracts/define-event.js';
import { defineKey } from '../../contracts/define-key.js';
import { defineTopic } from '../../contracts/define-topic.js';
import { InvalidOptionError, SluiceError } from '../../errors.js';
import { MemoryChangeLog } from '../../testing/memory-change-source.js';
import { defineChangeMapping, mapped } from '../change-mapping.js';
import { createChangeOutbox } from '../change-outbox.js';
import type { RowChange } from '../row-change.js';
import { assertBackfillAllowed, contractsFedBy, requestBackfill } from './backfill-permission.js';
import type { BackfillOrder } from './snapshotter.js';

const CourseId = defineKey('courseId', z.string(), { description: 'a course' });
const PriceId = defineKey('priceId', z.string(), { description: 'a price' });
const CourseListing = defineEvent({
  type: 'course.listing',
  version: 1,
  key: CourseId,
  topic: defineTopic({ name: 'course-listings', kind: 'entity' }),
  description: 'what a course looks like now',
  schema: z.object({ courseId: z.string(), title: z.string() }),
});
const PriceCharged = defineEvent({
  type: 'price.charged',
  version: 1,
  key: PriceId,
  topic: defineTopic({ name: 'prices', kind: 'event' }),
  description: 'a price was charged (a fact: replaying current state would charge again)',
  schema: z.object({ priceId: z.string(), cents: z.number() }),
  backfill: false,
});

const mapping = defineChangeMapping({
  tables: { 'legacy.courses': [CourseListing], 'legacy.charges': [PriceCharged] },
  map: (c) => {
    const row = c.after as { id: string; title?: string; cents?: number } | undefined;
    if (row === undefined) return [];
    return c.table === 'courses'
      ? [mapped(CourseListing, { courseId: row.id, title: row.title ?? '' })]
      : [mapped(PriceCharged, { priceId: row.id, cents: row.cents ?? 0 })];
  },
});

const order = (table: string): BackfillOrder => ({ source: 'postgres:slot', schema: 'legacy', table });

function snapshot(table: string, after: Record<string, unknown>): RowChange {
  return {
    operation: 'snapshot',
    schema: 'legacy',
    table,
    before: undefined,
    after,
    transactionId: 'tx-1',
    commitTime: 1_700_000_000_000,
    position: 'lsn-1',
    sequence: 1,
    index: 0,
  };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SluiceError ? error.code : String(error);
  }
  return undefined;
}

describe('backfill permission', () => {
  it('refuses a backfill of a table that feeds a contract with backfill: false, naming the contract', () => {
    assert.throws(
      () => assertBackfillAllowed(order('charges'), { mappings: [mapping] }),
      (e: unknown) =>
        e instanceof SluiceError &&
        e.code === 'SLUICE_BACKFILL_FORBIDDEN' &&
        /backfill of legacy\.charges refused: its rows map to price\.charged v1/.test(e.message),
    );
  });

  it('allows a table whose declared contracts allow backfills, though others of the source forbid them', () => {
    assert.equal(
      code(() => assertBackfillAllowed(order('courses'), { mappings: [mapping] })),
      undefined,
    );
    assert.deepEqual(contractsFedBy(order('courses'), { mappings: [mapping] }).contracts, [CourseListing]);
  });

  it('without a declared mapping, any known contract that forbids backfills refuses (unknown is not allowed)', () => {
    const known = { contracts: [CourseListing, PriceCharged] };
    assert.throws(() => assertBackfillAllowed(order('courses'), known), /defineChangeMapping/);
    assert.equal(
      code(() => assertBackfillAllowed(order('courses'), { contracts: [CourseListing] })),
      undefined,
    );
    assert.equal(
      code(() => assertBackfillAllowed(order('courses'), {})),
      undefined,
      'nothing known',
    );
  });

  it('requestBackfill records nothing when refused, and the request when allowed', async () => {
    const recorded: BackfillOrder[] = [];
    const snapshotter = {
      request: async (o: BackfillOrder) => {
        recorded.push(o);
        return String(recorded.length);
      },
    };
    await assert.rejects(requestBackfill(snapshotter, order('charges'), { mappings: [mapping] }), {
      code: 'SLUICE_BACKFILL_FORBIDDEN',
    });
    assert.equal(recorded.length, 0);
    assert.equal(await requestBackfill(snapshotter, order('courses'), { mappings: [mapping] }), '1');
    assert.deepEqual(recorded, [order('courses')]);
  });

  it('a bare table name declares the table in any schema; schema.table wins', () => {
    const bare = defineChangeMapping({ tables: { charges: [PriceCharged] }, map: () => [] });
    assert.throws(() => assertBackfillAllowed(order('charges'), { mappings: [bare] }), /price\.charged/);
    const both = defineChangeMapping({
      tables: { charges: [PriceCharged], 'legacy.charges': [CourseListing] },
      map: () => [],
    });
    assert.equal(
      code(() => assertBackfillAllowed(order('charges'), { mappings: [both] })),
      undefined,
    );
  });

  it('defineChangeMapping checks the table names and contracts', () => {
    assert.throws(
      () => defineChangeMapping({ tables: { 'a.b.c': [PriceCharged] }, map: () => [] }),
      InvalidOptionError,
    );
    assert.throws(
      () => defineChangeMapping({ tables: { 'a.b': [{} as never] }, map: () => [] }),
      /tables\.a\.b/,
    );
  });
});

describe('the relay (changeOutbox) and snapshot rows of contracts that forbid backfills', () => {
  it('refuses a snapshot row mapped to such a contract, and the change is not acknowledged', async () => {
    const log = new MemoryChangeLog();
    log.commit(snapshot('charges', { id: 'p-1', cents: 100 }));
    const outbox = createChangeOutbox({ source: log.reader(), map: mapping, eventSource: 'urn:service:x' });
    await assert.rejects(outbox.readPending(undefined, 10), (e: unknown) => {
      assert.ok(e instanceof SluiceError);
      assert.equal(e.code, 'SLUICE_BACKFILL_FORBIDDEN');
      assert.match(e.message, /snapshot on legacy\.charges .*price\.charged v1.*sluice backfill --list/);
      return true;
    });
    assert.equal(log.acknowledged, undefined);
  });

  it('publishes live changes of that contract, and snapshot rows of contracts that allow backfills', async () => {
    const log = new MemoryChangeLog();
    log.commit(
      { ...snapshot('charges', { id: 'p-1', cents: 100 }), operation: 'insert' },
      { ...snapshot('courses', { id: 'c-1', title: 'Go' }), position: 'lsn-2', sequence: 2 },
    );
    const outbox = createChangeOutbox({ source: log.reader(), map: mapping, eventSource: 'urn:service:x' });
    const { rows } = await outbox.readPending(undefined, 10);
    assert.deepEqual(
      rows.map((r) => r.topic),
      ['prices', 'course-listings'],
    );
  });

  it('refuses a change mapped to a contract its declared tables do not list', async () => {
    const log = new MemoryChangeLog();
    log.commit({ ...snapshot('courses', { id: 'p-1', cents: 1 }), operation: 'insert' });
    const lying = defineChangeMapping({
      tables: { 'legacy.courses': [CourseListing] },
      map: () => [mapped(PriceCharged, { priceId: 'p-1', cents: 1 })],
    });
    const outbox = createChangeOutbox({ source: log.reader(), map: lying, eventSource: 'urn:service:x' });
    await assert.rejects(outbox.readPending(undefined, 10), {
      code: 'SLUICE_CHANGE_MAPPING_FAILED',
      message: /price\.charged v1, which the mapping's declared tables do not list for legacy\.courses/,
    });
  });
});
