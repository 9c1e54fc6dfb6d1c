import { SluiceError } from '../../errors.js';

/** A polled table that does not exist or cannot be seen: permanent (retrying will not create it). */
export function polledTableMissing(table: string, options: string): SluiceError {
  return new SluiceError(
    'SLUICE_QUERY_TABLE_MISSING',
    `table ${table} polled by a query-based source does not exist (or these credentials cannot see it): check the ${options} options and the privileges`,
  );
}

/**
 * Checks a polled column's type (`undefined`: the column does not exist) against the `allowed` ones, failing
 * with a permanent error naming the column otherwise.
 */
export function checkPolledColumn(
  table: string,
  column: string,
  type: string | undefined,
  allowed: ReadonlySet<string>,
  what: string,
): void {
  if (type !== undefined && allowed.has(type)) return;
  throw new SluiceError(
    'SLUICE_QUERY_COLUMN_INVALID',
    type === undefined
      ? `column ${column} of ${table} does not exist: check the query-based source's column options`
      : `column ${column} of ${table} is of type ${type}; a query-based source needs ${what} column there`,
  );
}
