/** Backfill figures of one table (`schema.table`). */
export interface BackfillTableStats {
  readonly table: string;
  /** Snapshot rows handed over. */
  readonly rows: number;
  /** Chunks completed (their rows handed over). */
  readonly chunks: number;
}

/** What a {@link BackfillingSource} reports for metrics and status. */
export interface BackfillStats {
  /** The backfill running now: its request, rows handed over (saved progress included) and chunks started. */
  readonly active: (BackfillTableStats & { readonly request: string }) | undefined;
  /** Per table, since the source was created, across backfills (cumulative, never decreasing). */
  readonly tables: readonly BackfillTableStats[];
}

/** Cumulative rows and chunks per table: one map update per chunk, nothing per row. */
export class BackfillTotals {
  readonly #tables = new Map<string, { rows: number; chunks: number }>();

  /** A chunk of `table` was handed over with `rows` rows. */
  chunkHandedOver(table: string, rows: number): void {
    const t = this.#tables.get(table);
    if (t === undefined) this.#tables.set(table, { rows, chunks: 1 });
    else {
      t.rows += rows;
      t.chunks += 1;
    }
  }

  /** A backfill of `table` started: the table is listed (at zero) from now on. */
  started(table: string): void {
    if (!this.#tables.has(table)) this.#tables.set(table, { rows: 0, chunks: 0 });
  }

  list(): BackfillTableStats[] {
    return [...this.#tables].map(([table, t]) => ({ table, rows: t.rows, chunks: t.chunks }));
  }
}
