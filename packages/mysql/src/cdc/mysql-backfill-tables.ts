import { quoteIdentifier } from '../identifier.js';
import type { MysqlQueryable } from '../mysql-client.js';

/** Name of the watermark table; the binlog source must capture it (include it in its table filter). */
export const WATERMARK_TABLE = 'cdc_watermark';
/** Name of the table of backfill requests and their progress. */
export const BACKFILL_TABLE = 'cdc_backfill';

/**
 * Creates, where missing, the database and the two small tables snapshots and backfills need on the captured
 * server: one row per source in `cdc_watermark` (each watermark write updates it, and the update shows in the
 * binlog) and the backfill requests with their progress in `cdc_backfill`.
 */
export async function createMysqlBackfillTables(db: MysqlQueryable, database: string): Promise<void> {
  const d = quoteIdentifier(database);
  await db.query(`CREATE DATABASE IF NOT EXISTS ${d} CHARACTER SET utf8mb4`);
  await db.query(`CREATE TABLE IF NOT EXISTS ${d}.${WATERMARK_TABLE} (
  source     VARCHAR(255) NOT NULL PRIMARY KEY,
  watermark  VARCHAR(100) NOT NULL,
  written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB`);
  await db.query(`CREATE TABLE IF NOT EXISTS ${d}.${BACKFILL_TABLE} (
  id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  source         VARCHAR(255) NOT NULL,
  table_schema   VARCHAR(64)  NOT NULL,
  table_name     VARCHAR(64)  NOT NULL,
  where_sql      TEXT         NULL,
  chunk_size     INT          NOT NULL,
  after_key      TEXT         NULL,
  rows_delivered BIGINT       NOT NULL DEFAULT 0,
  status         VARCHAR(16)  NOT NULL DEFAULT 'pending',
  requested_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at     TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  finished_at    TIMESTAMP(6) NULL,
  KEY cdc_backfill_source_status (source, status)
) ENGINE=InnoDB`);
}
