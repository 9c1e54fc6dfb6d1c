import { quoteIdentifier } from '../identifier.js';
import type { PgQueryable } from '../pg-client.js';

/** Name of the watermark table in the backfill schema; it must be in the change capture's publication. */
export const WATERMARK_TABLE = 'cdc_watermark';
/** Name of the table of backfill requests and their progress. */
export const BACKFILL_TABLE = 'cdc_backfill';

/**
 * Creates the two small tables snapshots and backfills need in the captured database, where missing: one row per
 * source in `cdc_watermark` (each watermark write updates it, and the update shows in the change stream), and
 * the backfill requests with their progress in `cdc_backfill`.
 */
export async function createBackfillTables(db: PgQueryable, schema: string): Promise<void> {
  const s = quoteIdentifier(schema);
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await db.query(`CREATE TABLE IF NOT EXISTS ${s}.${WATERMARK_TABLE} (
  source     text        PRIMARY KEY,
  watermark  text        NOT NULL,
  written_at timestamptz NOT NULL DEFAULT clock_timestamp()
)`);
  await db.query(`CREATE TABLE IF NOT EXISTS ${s}.${BACKFILL_TABLE} (
  id             bigserial   PRIMARY KEY,
  source         text        NOT NULL,
  table_schema   text        NOT NULL,
  table_name     text        NOT NULL,
  where_sql      text,
  chunk_size     integer     NOT NULL CHECK (chunk_size > 0),
  after_key      jsonb,
  rows_delivered bigint      NOT NULL DEFAULT 0,
  status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'cancelled')),
  requested_at   timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
)`);
}
