import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ChangeSource, RowChange, Snapshotter } from '@sluice/core';
import { keyValues } from '@sluice/core/adapter';
import { readChanges } from './change-source-conformance.js';

/**
 * What the suite needs of a {@link Snapshotter}: per case, a fresh schema or database with the backfill and
 * watermark tables, a table `seats (room text, seat integer, holder text, PRIMARY KEY (room, seat))` holding
 * rooms A to D with seats 1 to 250 each (holder `h-<room><seat>`), a table `notes (body text)` without a
 * primary key, and the database's change source capturing `seats` and the watermark table.
 */
export interface SnapshotterHarness {
  setup(): Promise<void>;
  /** Closes every snapshotter, source and connection, and drops what `setup` created. */
  teardown(): Promise<void>;
  /** The schema (PostgreSQL) or database (MySQL) of the case's tables. */
  schema(): string;
  /** A snapshotter on the case's backfill tables, cutting requests without a size into `chunkSize` rows. */
  snapshotter(chunkSize: number): Snapshotter;
  /** A change source capturing `seats` and the watermark table, from before any write of the case. */
  source(): ChangeSource;
  /** Commits an insert of a seat (its own transaction). */
  addSeat(room: string, seat: number, holder: string): Promise<void>;
}

const SOURCE = 'conformance:snapshots';
const seatKey = (r: Readonly<Record<string, unknown>>) => `${r['room']}${Number(r['seat'])}`;

/** Every seat key `setup` inserted that satisfies `keep`, in key order. */
function seats(keep: (room: string, seat: number) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const room of ['A', 'B', 'C', 'D'])
    for (let s = 1; s <= 250; s++) if (keep(room, s)) out.push(`${room}${s}`);
  return out; // key order: room, then seat as a number
}

/**
 * The behaviour every {@link Snapshotter} must show on its real database: key columns in key order, requests
 * refused for a table it could not read in key order, chunks in key order that return each row once (honouring
 * `where`) and see what committed before the read, progress that reads back from `pending`, and watermarks that
 * show up in the change stream in commit order and are told apart from other changes.
 */
export function runSnapshotterConformance(name: string, harness: SnapshotterHarness): void {
  describe(`${name}: Snapshotter conformance`, () => {
    beforeEach(() => harness.setup());
    afterEach(() => harness.teardown());

    it('names the key columns in key order; refuses a table without a primary key', async () => {
      const s = harness.snapshotter(70);
      assert.deepEqual(await s.keyColumns(harness.schema(), 'seats'), ['room', 'seat']);
      await assert.rejects(s.request({ source: SOURCE, schema: harness.schema(), table: 'notes' }), {
        code: 'SLUICE_BACKFILL_NO_PRIMARY_KEY',
      });
      assert.equal(await s.everRequested(SOURCE), false, 'a refused request is not recorded');
      assert.deepEqual(await s.pending(SOURCE), []);
    });

    it('reads a table in chunks, each row once, in key order, honouring where; progress reads back from pending', async () => {
      const s = harness.snapshotter(70);
      const keyColumns = await s.keyColumns(harness.schema(), 'seats');
      const cases = [
        { where: undefined, expected: seats() },
        { where: "room <> 'B' AND seat % 3 = 0", expected: seats((r, n) => r !== 'B' && n % 3 === 0) },
      ];
      for (const { where, expected } of cases) {
        const id = await s.request({ source: SOURCE, schema: harness.schema(), table: 'seats', where });
        const request = (await s.pending(SOURCE)).find((r) => r.id === id);
        assert.ok(request, 'the request is pending');
        assert.deepEqual([request.chunkSize, request.afterKey, request.rowsDelivered], [70, undefined, 0]);
        let afterKey: readonly unknown[] | undefined;
        const seen: string[] = [];
        for (;;) {
          const chunk = await s.readChunk(request, keyColumns, afterKey, request.chunkSize);
          assert.ok(chunk.length <= request.chunkSize);
          seen.push(...chunk.map(seatKey));
          if (chunk.length < request.chunkSize) break;
          afterKey = keyValues(chunk.at(-1)!, keyColumns);
          await s.saveProgress(id, afterKey, seen.length, false);
          const saved = (await s.pending(SOURCE)).find((r) => r.id === id);
          assert.deepEqual([saved?.afterKey, saved?.rowsDelivered], [afterKey, seen.length], 'progress lost');
        }
        assert.deepEqual(seen, expected, `where ${where}`);
        await s.saveProgress(id, afterKey, seen.length, true);
        assert.equal(
          (await s.pending(SOURCE)).find((r) => r.id === id),
          undefined,
          'done is not pending',
        );
      }
      assert.equal(await s.everRequested(SOURCE), true);
      assert.equal(await s.everRequested('conformance:other'), false);
    });

    it('a request and its progress survive the snapshotter: another one resumes after the saved key', async () => {
      const first = harness.snapshotter(100);
      const keyColumns = await first.keyColumns(harness.schema(), 'seats');
      const id = await first.request({
        source: SOURCE,
        schema: harness.schema(),
        table: 'seats',
        chunkSize: 100,
      });
      const [request] = await first.pending(SOURCE);
      const chunk = await first.readChunk(request!, keyColumns, undefined, 100);
      await first.saveProgress(id, keyValues(chunk.at(-1)!, keyColumns), chunk.length, false);
      await first.close();
      const second = harness.snapshotter(7);
      const [resumed] = await second.pending(SOURCE);
      assert.deepEqual([resumed?.id, resumed?.chunkSize, resumed?.rowsDelivered], [id, 100, 100]);
      const next = await second.readChunk(resumed!, keyColumns, resumed!.afterKey, 3);
      assert.deepEqual(next.map(seatKey), seats().slice(100, 103), 'resumed right after the saved key');
    });

    it('a chunk sees every row committed before it was read', async () => {
      const s = harness.snapshotter(50);
      const keyColumns = await s.keyColumns(harness.schema(), 'seats');
      await s.request({ source: SOURCE, schema: harness.schema(), table: 'seats' });
      const [request] = await s.pending(SOURCE);
      await harness.addSeat('D', 251, 'late');
      await harness.addSeat('E', 1, 'later');
      const chunk = await s.readChunk(request!, keyColumns, ['D', 250], 50);
      assert.deepEqual(
        chunk.map((r) => [seatKey(r), r['holder']]),
        [
          ['D251', 'late'],
          ['E1', 'later'],
        ],
      );
    });

    it('a watermark shows up in the change stream in commit order, and only it is taken for one', async () => {
      const s = harness.snapshotter(50);
      const source = harness.source();
      await source.read(1, 0); // starts the stream
      await harness.addSeat('E', 1, 'before');
      await s.writeWatermark(SOURCE, 'low:1');
      await harness.addSeat('E', 2, 'between');
      await s.writeWatermark(SOURCE, 'high:1');
      await s.writeWatermark('conformance:other', 'low:9');
      const changes: RowChange[] = await readChanges(source, 5);
      assert.equal(changes.length, 5, 'the watermark writes are captured');
      assert.deepEqual(
        changes.map((c) => s.watermarkOf(c) ?? seatKey(c.after ?? {})),
        [
          'E1',
          { source: SOURCE, watermark: 'low:1' },
          'E2',
          { source: SOURCE, watermark: 'high:1' },
          { source: 'conformance:other', watermark: 'low:9' },
        ],
      );
    });
  });
}
