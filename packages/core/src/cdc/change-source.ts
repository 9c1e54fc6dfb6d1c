import type { PreflightCheck } from './preflight-check.js';
import type { RowChange } from './row-change.js';

/** How far a change source is behind its database. */
export interface ChangeSourceStats {
  /** Bytes of log the source has not yet acknowledged (PostgreSQL: WAL held by the slot), when known. */
  readonly lagBytes: number | null;
  /** Age of the oldest change read and not yet acknowledged, or of the newest commit not yet read; null if idle. */
  readonly lagMs: number | null;
}

/**
 * A stream of row changes out of a database that Sluice does not write to: change data capture from its log,
 * or query-based polling where the log cannot be read. The relay ships its changes (mapped to contract events
 * by {@link createChangeOutbox}) with the same ordering, batching and delivery guarantees as an outbox.
 *
 * Implementers own:
 * - handing over changes of committed transactions only, in commit order, each exactly once per `read` chain
 *   (a restart reads again from the last acknowledged position, which may repeat changes, never skip one);
 * - durably remembering the acknowledged position (PostgreSQL: the replication slot's confirmed position;
 *   MySQL: a stored GTID or binlog position) before `acknowledge` resolves, and releasing the log before it;
 * - one reader at a time: while another process reads the source, `read` waits or fails with a retryable error;
 * - failing with a clear, permanent error (never a silent restart from "now") when the stored position is no
 *   longer readable (a dropped slot, a purged binlog), saying what may have been lost and how to backfill.
 */
export interface ChangeSource {
  /** Short name for messages and event ids, e.g. `postgres:sluice_courses_slot`. Stable across restarts. */
  readonly name: string;

  /**
   * Up to `limit` changes after the ones this source has already returned (after the acknowledged position on
   * the first call). Waits up to `maxWaitMs` (or until `signal` aborts) for a first change; resolves [] if none.
   */
  read(limit: number, maxWaitMs: number, signal?: AbortSignal): Promise<RowChange[]>;

  /** Every change up to and including the one at `position` was delivered: resume after it from now on. */
  acknowledge(position: string): Promise<void>;

  stats(): Promise<ChangeSourceStats>;

  /**
   * Optional. Checks the source's prerequisites without starting it, for `sluice check`: server settings,
   * privileges, the objects it reads and whether its stored position is still readable; one entry per
   * prerequisite, each failing one saying what to do. The implementer owns being read-only: it never creates,
   * takes or advances anything (no slot, no lock, no saved position) and resolves (never rejects) with a failed
   * check when the database cannot be reached. It does not own closing: the caller calls `close` after it.
   */
  preflight?(): Promise<readonly PreflightCheck[]>;

  /** Releases the source's connections. Idempotent. */
  close(): Promise<void>;
}
