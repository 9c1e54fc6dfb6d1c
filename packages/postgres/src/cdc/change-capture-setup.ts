import { InvalidOptionError, SluiceError } from '@sluice/core';
import { checkIdentifier, quoteIdentifier } from '../identifier.js';
import type { PgQueryable } from '../pg-client.js';
import { createBackfillTables, WATERMARK_TABLE } from './backfill-tables.js';

export interface ChangeCaptureSetup {
  /** The permanent logical replication slot the change source reads (created with the `pgoutput` plugin). */
  readonly slot: string;
  /** The publication naming the captured tables. */
  readonly publication: string;
  /** Tables to capture, `schema.table` or `table` (search path). */
  readonly tables: readonly string[];
  /**
   * Set `REPLICA IDENTITY FULL` on the tables, so updates and deletes carry every column of the old row (the
   * default identity gives only the primary key of a deleted row and no old row for an update).
   */
  readonly fullBeforeImages?: boolean;
  /**
   * Schema of the watermark and backfill-request tables that snapshots and backfills use (`withBackfill`);
   * they are created there, and the watermark table is added to the publication. Default `sluice`.
   */
  readonly backfillSchema?: string;
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** How long dropChangeCapture waits for a slot's last reader to go. */
const DROP_WAIT_MS = 10_000;
const TABLE = /^(?:[a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/;

/**
 * Prepares change data capture once (as `sluice migrate` does for the outbox): creates the publication for the
 * tables (and the backfill watermark table), the backfill tables, and the permanent logical replication slot,
 * where missing. A source never creates its slot itself, so
 * a dropped slot is an error, never a silent start from "now". Needs a role with REPLICATION (and ownership of
 * the tables for the publication). Returns whether the slot was created now: a new slot starts at the present,
 * and what changed before it needs a backfill.
 */
export async function createChangeCapture(
  db: PgQueryable,
  setup: ChangeCaptureSetup,
): Promise<{ slotCreated: boolean }> {
  check(setup);
  const backfillSchema = checkIdentifier(
    'createChangeCapture',
    'backfillSchema',
    setup.backfillSchema ?? 'sluice',
  );
  await createBackfillTables(db, backfillSchema);
  const tables = [
    ...setup.tables.map(quoteTable),
    `${quoteIdentifier(backfillSchema)}.${WATERMARK_TABLE}`,
  ].join(', ');
  const exists = await db.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [setup.publication]);
  if (exists.rows.length === 0)
    await db.query(`CREATE PUBLICATION "${setup.publication}" FOR TABLE ${tables}`);
  else await db.query(`ALTER PUBLICATION "${setup.publication}" SET TABLE ${tables}`);
  if (setup.fullBeforeImages) {
    for (const table of setup.tables)
      await db.query(`ALTER TABLE ${quoteTable(table)} REPLICA IDENTITY FULL`);
  }
  const slot = await db.query('SELECT plugin FROM pg_replication_slots WHERE slot_name = $1', [setup.slot]);
  if (slot.rows.length > 0) {
    const plugin = (slot.rows[0] as { plugin: string }).plugin;
    if (plugin !== 'pgoutput') {
      throw new InvalidOptionError(
        'createChangeCapture',
        'slot',
        `slot ${setup.slot} exists with plugin ${plugin}; Sluice reads pgoutput slots: choose another name`,
      );
    }
    return { slotCreated: false };
  }
  await db.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [setup.slot]);
  return { slotCreated: true };
}

/**
 * Drops the slot (releasing its WAL) and the publication. The source can no longer resume after this. Waits up
 * to 10 s for a reader that is closing to release the slot; a slot still read then is a retryable error.
 */
export async function dropChangeCapture(
  db: PgQueryable,
  setup: Pick<ChangeCaptureSetup, 'slot' | 'publication'>,
) {
  if (!NAME.test(setup.slot) || !NAME.test(setup.publication)) {
    throw new InvalidOptionError(
      'dropChangeCapture',
      'slot',
      'slot and publication must be lower-case identifiers',
    );
  }
  // A reader that just closed leaves its walsender for a moment: wait for the slot to be released.
  const deadline = Date.now() + DROP_WAIT_MS;
  for (;;) {
    const { rows } = await db.query<{ active: boolean; active_pid: number | null }>(
      'SELECT active, active_pid FROM pg_replication_slots WHERE slot_name = $1',
      [setup.slot],
    );
    if (rows.length === 0) break;
    if (!rows[0]!.active) {
      await db.query('SELECT pg_drop_replication_slot($1)', [setup.slot]);
      break;
    }
    if (Date.now() > deadline) {
      throw new SluiceError(
        'SLUICE_SOURCE_BUSY',
        `replication slot ${setup.slot} is still read by process ${rows[0]!.active_pid}: stop that reader (or pg_terminate_backend it), then drop the slot again`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await db.query(`DROP PUBLICATION IF EXISTS "${setup.publication}"`);
}

function check(setup: ChangeCaptureSetup): void {
  if (!NAME.test(setup.slot)) {
    throw new InvalidOptionError(
      'createChangeCapture',
      'slot',
      'must be a lower-case identifier (a-z, 0-9, _)',
    );
  }
  if (!NAME.test(setup.publication)) {
    throw new InvalidOptionError('createChangeCapture', 'publication', 'must be a lower-case identifier');
  }
  if (
    !Array.isArray(setup.tables) ||
    setup.tables.length === 0 ||
    !setup.tables.every((t) => TABLE.test(t))
  ) {
    throw new InvalidOptionError(
      'createChangeCapture',
      'tables',
      'must name tables as schema.table or table',
    );
  }
}

function quoteTable(table: string): string {
  return table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}
