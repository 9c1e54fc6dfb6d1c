import { InvalidOptionError, SluiceError } from '../../errors.js';
import type { BackfillRequest } from './backfill-request.js';

/** The most rows a chunk may have: a chunk is held in memory between its watermarks. */
export const MAX_BACKFILL_CHUNK = 100_000;

/** A row of a snapshotter's backfill table, as drivers return it (after_key already parsed from JSON). */
export interface BackfillRow {
  readonly id: number | string;
  readonly source: string;
  readonly table_schema: string;
  readonly table_name: string;
  readonly where_sql: string | null;
  readonly chunk_size: number;
  readonly after_key: readonly unknown[] | null;
  readonly rows_delivered: number | string;
}

/** A backfill request from its row in a snapshotter's table. */
export function backfillRequestFromRow(r: BackfillRow): BackfillRequest {
  return {
    id: String(r.id),
    source: r.source,
    schema: r.table_schema,
    table: r.table_name,
    where: r.where_sql ?? undefined,
    chunkSize: r.chunk_size,
    afterKey: r.after_key ?? undefined,
    rowsDelivered: Number(r.rows_delivered),
  };
}

/** Checks a chunk size option: an integer from 1 to {@link MAX_BACKFILL_CHUNK}. */
export function checkChunkSize(component: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_BACKFILL_CHUNK) {
    throw new InvalidOptionError(
      component,
      'chunkSize',
      `must be an integer from 1 to ${MAX_BACKFILL_CHUNK}, got ${value}`,
    );
  }
  return value;
}

/** The error for a table a backfill cannot chunk: missing, or without a primary key. */
export function noPrimaryKeyError(schema: string, table: string): SluiceError {
  return new SluiceError(
    'SLUICE_BACKFILL_NO_PRIMARY_KEY',
    `${schema}.${table} is missing or has no primary key: a backfill reads a table in chunks in primary-key order. Check the name, or add a primary key`,
  );
}

/** The error for a `where` condition the database refused. */
export function invalidWhereError(schema: string, table: string, cause: unknown): InvalidOptionError {
  const reason = (cause as { message?: unknown } | null)?.message ?? String(cause);
  return new InvalidOptionError(
    'backfill',
    'where',
    `is not a valid condition on ${schema}.${table}: ${String(reason)}`,
  );
}
