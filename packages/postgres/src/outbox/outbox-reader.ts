import {
  CursorStates,
  chainOf,
  forgetAcknowledged,
  type GateCandidate,
  type OutboxBatch,
  type OutboxRow,
  releaseInSequence,
} from '@sluice/core/adapter';
import { toSluiceError } from '../errors.js';
import type { PgQueryable } from '../pg-client.js';
import { partitionOfSql } from './partition-sql.js';

/**
 * Where a chain of reads stands. Immutable once issued (only `returned` is pruned, which changes nothing a read
 * decides), so reading again with an older cursor (the relay retrying a batch it failed to publish) returns
 * the same rows again.
 */
interface ReadState {
  /** Every transaction visible in this snapshot has been read; null: nothing read yet. */
  readonly prev: string | null;
  /** The snapshot whose new transactions are being read page by page; null: take a fresh one next. */
  readonly cur: string | null;
  /** The last position read of `cur`'s new rows. */
  readonly pos: string;
  /** Positions of rows read but held back: an earlier sequence of their key was not returned yet. */
  readonly held: readonly string[];
  /** Per `source`, `topic`, `key`: the highest sequence returned in this chain (not yet known acknowledged). */
  readonly returned: Map<string, number>;
}

interface Candidate extends GateCandidate {
  readonly position: string;
  readonly fresh: boolean;
}

interface ReadRow {
  snapshot: string;
  position: string | null;
  id: string;
  source: string;
  topic: string;
  key: string;
  sequence: string;
  value: string | null;
  fresh: boolean;
  partition: number;
  delivered: string | null;
}

const INITIAL: ReadState = Object.freeze({ prev: null, cur: null, pos: '0', held: [], returned: new Map() });
/** Cursor states kept for re-reads; the relay only ever re-reads its latest cursor. */
const KEPT_STATES = 16;

/**
 * Reads committed outbox rows in windows of transactions: each window holds the transactions that committed
 * (became visible) between two snapshots, so a transaction that commits after a later position was read is
 * read in the next window instead of being skipped, and no transaction is in two windows. A long transaction
 * holds back nothing but its own rows.
 *
 * Within a window rows come in position order, and a row is returned only when its sequence is the next one
 * of its key after the last one returned in this chain or acknowledged (`outbox_delivered`); otherwise it is
 * held back and returned once the missing one is. Appends of one key queue on the key's sequence row, so the
 * earlier one always commits first and this never waits in practice; it is what makes per-key order a checked
 * invariant rather than an argument about snapshots.
 *
 * A cursor names a state kept in memory; an unknown cursor (from another process, or evicted) starts again from
 * every pending row, which may return rows again (the relay is at-least-once) but never skips one.
 */
export class OutboxReader {
  readonly #db: PgQueryable;
  readonly #sql: string;
  readonly #what: string;
  readonly #states = new CursorStates<ReadState>(KEPT_STATES);

  constructor(db: PgQueryable, schema: string, what: string) {
    this.#db = db;
    this.#sql = readSql(schema);
    this.#what = what;
  }

  /**
   * Reads the next rows of keys in `partitions` (of the relay partitions, see `partitionOfSql`; all when
   * omitted). A cursor is
   * only valid with the partitions it was issued for; the relay starts a new chain when they change.
   */
  async read(
    cursor: string | undefined,
    limit: number,
    partitions?: readonly number[],
  ): Promise<OutboxBatch> {
    const take = Math.max(1, Math.floor(limit));
    let state = (cursor === undefined ? undefined : this.#states.get(cursor)) ?? INITIAL;
    for (;;) {
      const freshSnapshot = state.cur === null;
      const { rows, next, windowDone } = await this.#readOnce(state, take, partitions);
      // Rows, or caught up with a snapshot taken now: done. Otherwise the page held back everything it read
      // (or the last page of an older snapshot was empty): read on, since the relay keeps its old cursor after
      // an empty batch and would read the same page again.
      if (rows.length > 0 || (freshSnapshot && windowDone)) return { rows, cursor: this.#states.save(next) };
      state = next;
    }
  }

  /** Forgets chains' returned sequences that are now acknowledged (only to keep memory small). */
  forgetAcknowledged(acknowledged: readonly { chain: string; sequence: number }[]): void {
    forgetAcknowledged(this.#states.values(), acknowledged);
  }

  async #readOnce(
    state: ReadState,
    limit: number,
    partitions: readonly number[] | undefined,
  ): Promise<{ rows: OutboxRow[]; next: ReadState; windowDone: boolean }> {
    let result: ReadRow[];
    try {
      const lo = state.prev === null ? '0' : state.prev.slice(0, state.prev.indexOf(':'));
      result = (
        await this.#db.query<ReadRow>(this.#sql, [
          state.cur,
          state.prev,
          lo,
          state.pos,
          limit,
          state.held,
          partitions === undefined ? null : [...partitions],
        ])
      ).rows;
    } catch (error) {
      throw toSluiceError(error, `reading ${this.#what}`, `${this.#what} is missing`);
    }
    const snapshot = result[0]!.snapshot;
    const mine = partitions === undefined ? undefined : new Set(partitions);
    const candidates: Candidate[] = [];
    let fresh = 0;
    let lastFresh = state.pos;
    for (const r of result) {
      if (r.position === null) continue; // the snapshot row of an empty read
      if (r.fresh) {
        fresh++;
        lastFresh = r.position;
        if (mine !== undefined && !mine.has(r.partition)) continue; // another relay's key
      }
      candidates.push({
        position: r.position,
        row: { position: Number(r.position), id: r.id, topic: r.topic, key: r.key, value: r.value },
        chain: chainOf(r.source, r.topic, r.key),
        sequence: Number(r.sequence),
        delivered: r.delivered === null ? 0 : Number(r.delivered),
        fresh: r.fresh,
      });
    }
    const returned = new Map(state.returned);
    const { out, held } = gate(candidates, returned, limit);
    for (const c of candidates) {
      const last = returned.get(c.chain);
      if (last !== undefined && last <= c.delivered) returned.delete(c.chain);
    }
    const windowDone = fresh < limit;
    const next: ReadState = windowDone
      ? { prev: snapshot, cur: null, pos: '0', held, returned }
      : { prev: state.prev, cur: snapshot, pos: lastFresh, held, returned };
    return { rows: out, next, windowDone };
  }
}

/** Releases candidates in sequence per key (see `releaseInSequence`); the rest are held back, by position. */
function gate(
  candidates: readonly Candidate[],
  returned: Map<string, number>,
  limit: number,
): { out: OutboxRow[]; held: string[] } {
  const out: OutboxRow[] = [];
  const waiting = releaseInSequence(candidates, returned, limit, out);
  return { out, held: waiting.map((c) => c.position).sort(comparePositions) };
}

function comparePositions(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * One statement: the snapshot of the window (`$1`, or a fresh one), the next page of rows whose transactions
 * are visible in it but were not in `$2` (the previous window's snapshot, null at the start), rows held back
 * earlier (`$6`), and each row's last acknowledged sequence. A row of the snapshot alone when there are none.
 *
 * Parameters: $1 cur snapshot | null, $2 prev snapshot | null, $3 xmin of prev (0 at the start; every
 * transaction below it was visible in prev), $4 position reached in the window, $5 page size, $6 held positions,
 * Each page row carries its key's relay partition: the caller drops rows of partitions it does not hold ($7,
 * null for all; their values are not even sent). (A
 * filter in the statement would make PostgreSQL's planner trade the ordered index scan that stops after the page
 * for a scan and sort of every pending row, on each read.)
 */
function readSql(schema: string): string {
  return `WITH snap AS MATERIALIZED (
  SELECT coalesce($1::pg_snapshot, pg_current_snapshot()) AS cur
), parts AS MATERIALIZED (
  SELECT count(*)::int AS n FROM ${schema}.relay_partition
), page AS (
  SELECT o.position, o.id, o.source, o.topic, o.key, o.sequence, o.value, true AS fresh,
    ${partitionOfSql('o.key', 'parts.n')} AS partition
  FROM ${schema}.outbox o, snap, parts
  WHERE o.txid >= $3::xid8
    AND o.txid < pg_snapshot_xmax(snap.cur)
    AND pg_visible_in_snapshot(o.txid, snap.cur)
    AND ($2::pg_snapshot IS NULL OR NOT pg_visible_in_snapshot(o.txid, $2::pg_snapshot))
    AND o.position > $4::bigint
  ORDER BY o.position
  LIMIT $5
), candidates AS (
  SELECT * FROM page
  UNION ALL
  SELECT o.position, o.id, o.source, o.topic, o.key, o.sequence, o.value, false AS fresh, 0 AS partition
  FROM ${schema}.outbox o
  WHERE o.position = ANY ($6::bigint[])
)
SELECT snap.cur::text AS snapshot, c.position::text AS position, c.id::text AS id, c.source, c.topic, c.key,
  c.sequence::text AS sequence, c.fresh, c.partition, d.sequence::text AS delivered,
  CASE WHEN NOT c.fresh OR $7::int[] IS NULL OR c.partition = ANY ($7::int[]) THEN c.value END AS value
FROM snap
LEFT JOIN candidates c ON true
LEFT JOIN ${schema}.outbox_delivered d ON d.source = c.source AND d.topic = c.topic AND d.key = c.key
ORDER BY c.position`;
}
