import type { RowImage } from '@sluice/core';

/** MYSQL_TYPE_LONGLONG: BIGINT columns. */
const LONGLONG = 8;

interface ColumnInfo {
  readonly name: string;
  readonly type: number;
}

/**
 * A row as the binlog decoder gives it, made consistent: BIGINT values always as decimal strings (the decoder
 * gives a number when it is a safe integer and a string otherwise), everything else as decoded (see the
 * README's type table). A plain object, so it compares, spreads and serializes as usual.
 */
export function rowImage(row: Record<string, unknown>, columns: readonly ColumnInfo[] | undefined): RowImage {
  const out: Record<string, unknown> = { ...row };
  for (const column of columns ?? []) {
    const value = out[column.name];
    if (column.type === LONGLONG && (typeof value === 'number' || typeof value === 'bigint')) {
      out[column.name] = String(value);
    }
  }
  return out;
}
