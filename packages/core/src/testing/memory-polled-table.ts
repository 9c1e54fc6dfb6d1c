import type { PolledRow } from '../cdc/query/polled-row.js';
import type { PolledTable, PolledTableFetch, QueryMode } from '../cdc/query/polled-table.js';
import type { PolledTableLock } from '../cdc/query/polled-table-lock.js';

/** A row of the in-memory table: committed or not, with its last-changed time. */
interface MemoryRow {
  readonly id: number;
  title: string;
  /** Microseconds on the table's clock. */
  timestamp: number;
  committed: boolean;
}

/**
 * A table in memory with transactions and a clock the test moves, for unit tests of the query-based source's
 * algorithm only (the SQL adapters are tested against real databases). Ids are allocated at `insert`, as a
 * sequence does, but rows are visible only once `commit`ted; `rollback` leaves the id unused for ever.
 */
export class MemoryPolledTable implements PolledTable {
  readonly schema = 'memory';
  readonly table = 'items';
  readonly mode: QueryMode;
  /** The database's clock, in microseconds. */
  now = 1_700_000_000_000_000;
  /** Every fetch, for assertions on what was asked. */
  readonly fetches: PolledTableFetch[] = [];
  readonly #rows = new Map<number, MemoryRow>();
  #nextId = 1;

  constructor(mode: QueryMode) {
    this.mode = mode;
  }

  /** Allocates the next id for an uncommitted row stamped with the clock; returns the id. */
  insert(title: string): number {
    const id = this.#nextId++;
    this.#rows.set(id, { id, title, timestamp: this.now, committed: false });
    return id;
  }

  /** Inserts and commits. */
  insertCommitted(title: string): number {
    const id = this.insert(title);
    this.commit(id);
    return id;
  }

  /** Changes a committed row's title and stamps it with the clock. */
  update(id: number, title: string): void {
    const row = this.#rows.get(id)!;
    row.title = title;
    row.timestamp = this.now;
  }

  commit(...ids: number[]): void {
    for (const id of ids) this.#rows.get(id)!.committed = true;
  }

  rollback(...ids: number[]): void {
    for (const id of ids) this.#rows.delete(id);
  }

  advance(ms: number): void {
    this.now += ms * 1000;
  }

  async fetch(request: PolledTableFetch): Promise<PolledRow[]> {
    this.fetches.push(request);
    const { after, upTo, limit } = request;
    const timestamped = this.mode === 'timestamp+incrementing';
    const visible = [...this.#rows.values()].filter((r) => {
      if (!r.committed) return false;
      if (!timestamped) return after === undefined || r.id > after.id;
      if (r.timestamp > upTo!) return false;
      if (after === undefined) return true;
      return r.timestamp > after.timestamp! || (r.timestamp === after.timestamp && r.id > after.id);
    });
    visible.sort((a, b) => (timestamped ? a.timestamp - b.timestamp || a.id - b.id : a.id - b.id));
    return visible.slice(0, limit).map((r) => ({
      row: { id: r.id, title: r.title },
      id: r.id,
      timestamp: timestamped ? r.timestamp : undefined,
    }));
  }

  async databaseNow(): Promise<number> {
    return this.now;
  }

  /** Reading locks held, by source name, as sessions of a database would hold them. */
  readonly locks = new Map<string, { lost: boolean }>();

  async lock(name: string): Promise<PolledTableLock | undefined> {
    if (this.locks.has(name)) return undefined;
    const session = { lost: false };
    this.locks.set(name, session);
    return {
      lost: () => session.lost,
      release: async () => {
        if (this.locks.get(name) === session) this.locks.delete(name);
      },
    };
  }

  /** The session holding `name`'s lock dies: the database releases the lock. */
  loseLock(name: string): void {
    const session = this.locks.get(name);
    if (session !== undefined) session.lost = true;
    this.locks.delete(name);
  }
}
