import { sqlState } from '../errors.js';
import type { PgPool } from '../pg-client.js';

/** What one housekeeping round did. */
export interface HousekeepingReport {
  /** Archived events deleted (older than `keepDeliveredMs`). */
  readonly archivedDeleted: number;
  /** Whether the outbox table was vacuumed. */
  readonly vacuumed: boolean;
}

export interface HousekeeperOptions {
  readonly keepDeliveredMs: number;
  readonly intervalMs: number;
  readonly batchSize: number;
  readonly vacuumEveryRows: number;
}

/**
 * Keeps the outbox small under sustained load, in the background of the relay's acknowledgements: deletes
 * archived events past their retention in batches (each its own short transaction, so no long lock and no
 * huge WAL burst), and vacuums the outbox table after many deletions so its pages are reused instead of the
 * table growing. One round at a time; a failed round is retried at the next interval.
 */
export class OutboxHousekeeper {
  readonly #pool: PgPool;
  readonly #o: HousekeeperOptions;
  readonly #pruneSql: string;
  readonly #vacuumSql: string;
  #deletedSinceVacuum = 0;
  #lastRun = 0;
  #running: Promise<HousekeepingReport> | undefined;
  #canVacuum = true;
  #closed = false;

  constructor(pool: PgPool, schema: string, options: HousekeeperOptions) {
    this.#pool = pool;
    this.#o = options;
    this.#pruneSql = `DELETE FROM ${schema}.outbox_archive WHERE position IN (
  SELECT position FROM ${schema}.outbox_archive
  WHERE delivered_at < clock_timestamp() - $1::double precision * interval '1 millisecond'
  ORDER BY delivered_at
  LIMIT $2
)`;
    this.#vacuumSql = `VACUUM (SKIP_LOCKED) ${schema}.outbox`;
  }

  /** Counts rows the relay acknowledged and starts a round in the background when one is due. */
  acknowledged(rows: number): void {
    this.#deletedSinceVacuum += rows;
    if (this.#closed || this.#running || Date.now() - this.#lastRun < this.#o.intervalMs) return;
    this.run().catch(() => undefined);
  }

  /** Runs a round now (or joins the one running). */
  run(): Promise<HousekeepingReport> {
    this.#running ??= this.#round().finally(() => {
      this.#lastRun = Date.now();
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Waits for a round in progress; starts no more. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running?.catch(() => undefined);
  }

  async #round(): Promise<HousekeepingReport> {
    let archivedDeleted = 0;
    if (this.#o.keepDeliveredMs > 0) {
      for (;;) {
        const { rowCount } = await this.#pool.query(this.#pruneSql, [
          this.#o.keepDeliveredMs,
          this.#o.batchSize,
        ]);
        archivedDeleted += rowCount ?? 0;
        if ((rowCount ?? 0) < this.#o.batchSize || this.#closed) break;
      }
    }
    let vacuumed = false;
    const every = this.#o.vacuumEveryRows;
    if (this.#canVacuum && every > 0 && this.#deletedSinceVacuum >= every) {
      const deleted = this.#deletedSinceVacuum;
      try {
        await this.#pool.query(this.#vacuumSql);
        this.#deletedSinceVacuum -= deleted;
        vacuumed = true;
      } catch (error) {
        // Not the table's owner: leave it to autovacuum (tuned for a queue by the migrations).
        if (sqlState(error) === '42501') this.#canVacuum = false;
        else throw error;
      }
    }
    return { archivedDeleted, vacuumed };
  }
}
