import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { decodeEnvelope, type OutboxStore } from '@sluice/core';
import { type OutboxRow, sleep } from '@sluice/core/adapter';
import { type AppendedEvent, ItemAdded, type OutboxStoreHarness } from './outbox-store-harness.js';

export interface CommittedEvent extends AppendedEvent {
  /** 1 for the first transaction to commit in the run, 2 for the next, ... */
  readonly commitOrder: number;
}

export interface WritersRun {
  readonly committed: CommittedEvent[];
  readonly rolledBack: AppendedEvent[];
  readonly deadlocks: number;
}

/**
 * `count` writers on their own connections until `until`, over `keys` keys: short transactions, transactions
 * that wait before their first append or after it (holding a low position, and the key's counter, open while
 * others commit past them) and rollbacks. Several keys per transaction in random order deadlock now and then:
 * the database aborts one, which counts as rolled back.
 */
export async function runWriters<S extends OutboxStore>(
  harness: OutboxStoreHarness<S>,
  store: S,
  count: number,
  keys: number,
  until: number,
): Promise<WritersRun> {
  const committed: CommittedEvent[] = [];
  const rolledBack: AppendedEvent[] = [];
  let commits = 0;
  let deadlocks = 0;
  const writer = async () => {
    const w = await harness.writer(store);
    while (Date.now() < until) {
      const r = Math.random();
      const appended: AppendedEvent[] = [];
      try {
        await w.begin();
        if (r < 0.1) await sleep(30 + randomInt(250));
        const n = 1 + randomInt(3);
        for (let j = 0; j < n; j++) {
          appended.push(await w.append(ItemAdded, { itemId: `I-${randomInt(keys)}`, title: 't' }));
          if (r >= 0.1 && r < 0.25 && j === 0) await sleep(10 + randomInt(200));
        }
        if (r >= 0.87) {
          if (Math.random() < 0.5) await sleep(50);
          await w.rollback();
          rolledBack.push(...appended);
          continue;
        }
        await w.commit();
        const commitOrder = ++commits;
        for (const a of appended) committed.push({ ...a, commitOrder });
      } catch (error) {
        await w.rollback().catch(() => undefined);
        rolledBack.push(...appended);
        if (!harness.isDeadlock(error)) throw error;
        deadlocks++;
      }
    }
  };
  await Promise.all([...Array.from({ length: count }, writer), harness.hazard?.(until)]);
  return { committed, rolledBack, deadlocks };
}

/** How many committed events committed after an event at a higher position had committed. */
export function lateCommits(run: WritersRun, positions: ReadonlyMap<string, number>): number {
  const byCommit = [...run.committed].sort((a, b) => a.commitOrder - b.commitOrder);
  let max = 0;
  let late = 0;
  for (const c of byCommit) {
    const p = positions.get(c.id);
    if (p === undefined) continue;
    if (p < max) late++;
    max = Math.max(max, p);
  }
  return late;
}

/**
 * Asserts that `delivered` (in the order a consumer saw them) holds every committed event exactly once, none
 * rolled back, and each key's events 1, 2, 3, ... with the numbers the writers were given.
 */
export function assertExactlyOnceInOrder(
  run: WritersRun,
  delivered: readonly { id: string; key: string; sequence: number }[],
): void {
  const seen = new Map<string, number>();
  for (const r of delivered) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
  assert.deepEqual(
    [...seen].filter(([, n]) => n > 1),
    [],
    'returned more than once',
  );
  assert.deepEqual(
    run.rolledBack.filter((r) => seen.has(r.id)),
    [],
    'rolled-back events were returned',
  );
  assert.deepEqual(
    run.committed.filter((c) => !seen.has(c.id)),
    [],
    'committed events were never returned',
  );
  assert.equal(delivered.length, run.committed.length);
  const perKey = new Map<string, number[]>();
  for (const r of delivered) perKey.set(r.key, [...(perKey.get(r.key) ?? []), r.sequence]);
  for (const [key, seqs] of perKey) {
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i + 1),
      `key ${key} returned out of order or with a gap`,
    );
  }
  const given = new Map(run.committed.map((c) => [c.id, c.sequence]));
  for (const r of delivered) assert.equal(r.sequence, given.get(r.id), `${r.id}: not the number append gave`);
}

/** Acknowledges `rows`; false when the store says to try again later (a retryable error, e.g. busy). */
async function acknowledged(store: OutboxStore, rows: readonly OutboxRow[]): Promise<boolean> {
  try {
    await store.acknowledge(rows);
    return true;
  } catch (error) {
    if ((error as { retryable?: unknown }).retryable === true) return false;
    throw error;
  }
}

/**
 * A relay's reading loop until every committed event was returned: random batch sizes, one batch in ten read
 * again (as after a failed publish), acknowledgements late. Returns what it read, in order.
 */
export async function readLikeARelay(
  store: OutboxStore,
  done: () => number | undefined,
  timeoutMs: number,
): Promise<{ returned: { id: string; key: string; sequence: number; position: number }[]; reads: number }> {
  const returned: { id: string; key: string; sequence: number; position: number }[] = [];
  let cursor: string | undefined;
  let unacked: OutboxRow[] = [];
  let reads = 0;
  let deadline = Number.POSITIVE_INFINITY;
  for (;;) {
    const total = done();
    if (total !== undefined) {
      if (returned.length >= total) break;
      if (deadline === Number.POSITIVE_INFINITY) deadline = Date.now() + timeoutMs;
      if (Date.now() > deadline) break;
    }
    const batch = await store.readPending(cursor, 1 + randomInt(60));
    reads++;
    if (batch.rows.length === 0) {
      await store.waitForAppend(20);
      continue;
    }
    if (Math.random() < 0.1) continue;
    for (const row of batch.rows) {
      const e = decodeEnvelope(row.value);
      assert.equal(e.subject, row.key);
      assert.equal(e.id, row.id);
      returned.push({ id: row.id, key: row.key, sequence: e.sluiceseq, position: row.position });
    }
    cursor = batch.cursor;
    unacked.push(...batch.rows);
    if (Math.random() < 0.5 && (await acknowledged(store, unacked))) unacked = [];
  }
  while (!(await acknowledged(store, unacked))) await sleep(20);
  return { returned, reads };
}
