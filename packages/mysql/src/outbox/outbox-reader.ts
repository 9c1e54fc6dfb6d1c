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
import { inReadCommitted, type MysqlPool, type MysqlQueryable, queryRows } from '../mysql-client.js';

/**
 * Where a chain of reads stands: per `source`, `topic`, `key`, the highest sequence returned in this chain and
 * not yet known acknowledged. Immutable once issued (only pruned of acknowledged keys, which changes nothing a
 * read decides), so reading again with an older cursor (the relay retrying a batch it failed to publish)
 * returns the same rows again.
 */
interface ReadState {
  readonly returned: Map<string, number>;
}

interface ReadRow {
  position: number | string;
  id: string;
  source: string;
  topic: string;
  key: string;
  sequence: number | string;
  value: string | null;
  delivered: number | string | null;
}

type Candidate = GateCandidate;

const INITIAL: ReadState = Object.freeze({ returned: new Map() });
/** Cursor states kept for re-reads; the relay only ever re-reads its latest cursor. */
const KEPT_STATES = 16;

/**
 * Reads pending outbox rows without a positional cursor. MySQL's AUTO_INCREMENT position is taken at insert,
 * so a transaction holding a lower position may commit after a higher one was read: a reader that moved on
 * with `position > last` would skip it for good. Instead every read scans the pending rows (the outbox holds
 * only unacknowledged rows: acknowledging deletes them) from the lowest position, in pages, each page a
 * statement of a READ COMMITTED read-only transaction and so its own fresh snapshot (every transaction
 * committed before it is visible, whatever the pool's sessions default to), and:
 *
 * - skips rows already returned in this chain of cursors (their sequence is at or below the key's highest
 *   returned one), so unacknowledged rows are not sent twice;
 * - returns a row only when its sequence is the next one of its key after the last one returned in the chain
 *   or acknowledged (`sluice_outbox_delivered`, read in the same statement); otherwise it is held back and
 *   returned by a later read once the missing one has committed and been returned.
 *
 * Appends of one key queue on the key's sequence row, so the earlier one commits first; the check makes per-key
 * order an enforced invariant rather than an argument about locks. A late-committing row is simply found by
 * the next scan. A cursor names a state kept in memory; an unknown cursor (another process, or evicted) starts
 * from every pending row, which may return rows again (the relay is at-least-once) but never skips one.
 */
export class OutboxReader {
  readonly #pool: MysqlPool;
  readonly #sqlAll: string;
  readonly #sqlSome: string;
  readonly #what: string;
  readonly #states = new CursorStates<ReadState>(KEPT_STATES);

  constructor(pool: MysqlPool, database: string, what: string) {
    this.#pool = pool;
    this.#sqlAll = readSql(database, false);
    this.#sqlSome = readSql(database, true);
    this.#what = what;
  }

  /**
   * Reads up to `limit` releasable rows (in the order released: position order, except that a key's row held
   * back follows the earlier one that released it) of keys in `partitions` (`key_hash` modulo the partition count; all
   * when omitted). A cursor is only valid with the partitions it was issued for; the relay starts a new chain
   * when they change.
   */
  async read(
    cursor: string | undefined,
    limit: number,
    partitions?: readonly number[],
  ): Promise<OutboxBatch> {
    const take = Math.max(1, Math.floor(limit));
    const state = (cursor === undefined ? undefined : this.#states.get(cursor)) ?? INITIAL;
    if (partitions !== undefined && partitions.length === 0)
      return { rows: [], cursor: this.#states.save(state) };
    const returned = new Map(state.returned);
    const out: OutboxRow[] = [];
    try {
      await inReadCommitted(this.#pool, (conn) => this.#scan(conn, take, partitions, returned, out), {
        readOnly: true,
      });
    } catch (error) {
      throw toSluiceError(error, `reading ${this.#what}`, `${this.#what} is missing`);
    }
    return { rows: out, cursor: this.#states.save({ returned }) };
  }

  /** Pages through the pending rows from the lowest position until `take` rows are released or none are left. */
  async #scan(
    conn: MysqlQueryable,
    take: number,
    partitions: readonly number[] | undefined,
    returned: Map<string, number>,
    out: OutboxRow[],
  ): Promise<void> {
    let waiting: Candidate[] = [];
    const page = Math.max(500, take * 4);
    let after = 0;
    for (;;) {
      const rows =
        partitions === undefined
          ? await queryRows<ReadRow>(conn, this.#sqlAll, [after, page])
          : await queryRows<ReadRow>(conn, this.#sqlSome, [after, [...partitions], page]);
      for (const r of rows) {
        const chain = chainOf(r.source, r.topic, r.key);
        const sequence = Number(r.sequence);
        const delivered = r.delivered === null ? 0 : Number(r.delivered);
        const last = returned.get(chain);
        if (last !== undefined && last <= delivered) returned.delete(chain);
        if (last !== undefined && sequence <= last) continue; // returned in this chain, not yet acknowledged
        waiting.push({
          row: { position: Number(r.position), id: r.id, topic: r.topic, key: r.key, value: r.value },
          chain,
          sequence,
          delivered,
        });
      }
      waiting = releaseInSequence(waiting, returned, take, out);
      if (out.length >= take || rows.length < page) return;
      after = Number(rows[rows.length - 1]!.position);
    }
  }

  /** Forgets chains' returned sequences that are now acknowledged (only to keep memory small). */
  forgetAcknowledged(acknowledged: readonly { chain: string; sequence: number }[]): void {
    forgetAcknowledged(this.#states.values(), acknowledged);
  }
}

/**
 * One page of pending rows after a position, in position order, each with its key's last acknowledged
 * sequence; `?` 1 the position, (2 the partitions,) then the page size. One statement under READ COMMITTED:
 * one consistent snapshot that includes every transaction committed before it started.
 */
function readSql(db: string, filtered: boolean): string {
  return `SELECT o.position, o.id, o.source, o.topic, o.\`key\` AS \`key\`, o.sequence, o.value, d.sequence AS delivered
FROM ${db}.sluice_outbox o
LEFT JOIN ${db}.sluice_outbox_delivered d ON d.source = o.source AND d.topic = o.topic AND d.\`key\` = o.\`key\`
WHERE o.position > ?${
    filtered ? ` AND o.key_hash % (SELECT COUNT(*) FROM ${db}.sluice_relay_partition) IN (?)` : ''
  }
ORDER BY o.position
LIMIT ?`;
}
