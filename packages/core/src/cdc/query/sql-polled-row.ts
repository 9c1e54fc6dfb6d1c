import type { PolledRow } from './polled-row.js';
import { microsFromTimestampText } from './timestamp-text.js';

/** The column a SQL adapter adds to `SELECT t.*` for the id, rendered as text (exact beyond 2^31). */
export const POLLED_ID_COLUMN = '__sluice_id';
/** The column a SQL adapter adds for the timestamp, rendered as `YYYY-MM-DD HH:MM:SS.ffffff` (exact to 1 µs). */
export const POLLED_TIMESTAMP_COLUMN = '__sluice_ts';

/**
 * A row a SQL adapter selected as `t.*` plus {@link POLLED_ID_COLUMN} (and {@link POLLED_TIMESTAMP_COLUMN} in
 * timestamp+incrementing mode) as a {@link PolledRow}: the added columns are taken out of the row image.
 */
export function polledRowFromSql(record: Readonly<Record<string, unknown>>): PolledRow {
  const { [POLLED_ID_COLUMN]: id, [POLLED_TIMESTAMP_COLUMN]: timestamp, ...row } = record;
  return {
    row,
    id: Number(id),
    timestamp: typeof timestamp === 'string' ? microsFromTimestampText(timestamp) : undefined,
  };
}
