import type { RowImage } from '../row-change.js';

/**
 * A row's primary key as a string that compares equal whatever way a driver decoded it: a change source and a
 * snapshot query may give a bigint column as a number, a string or a bigint, a date as a Date or a string.
 * Undefined if the row lacks a key column (a before image without the key).
 */
export function rowKey(row: RowImage | undefined, keyColumns: readonly string[]): string | undefined {
  if (row === undefined) return undefined;
  const parts: string[] = [];
  for (const column of keyColumns) {
    if (!(column in row)) return undefined;
    parts.push(keyPart(row[column]));
  }
  return parts.join('\u0000');
}

/** The key column values of a row, in key order, as they can be stored (JSON) and bound as query parameters. */
export function keyValues(row: RowImage, keyColumns: readonly string[]): unknown[] {
  return keyColumns.map((c) => {
    const v = row[c];
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Date) return v.toISOString();
    if (Buffer.isBuffer(v)) return v.toString('hex');
    return v;
  });
}

function keyPart(value: unknown): string {
  if (value === null || value === undefined) return '\u0001null';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
