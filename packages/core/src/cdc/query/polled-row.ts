import type { RowImage } from '../row-change.js';

/** One row as a {@link PolledTable} fetched it: its columns and the values of the mode's columns. */
export interface PolledRow {
  /** Every column of the row, as the driver decodes it (without any column the adapter added for itself). */
  readonly row: RowImage;
  /** The incrementing column's value: a positive safe integer, unique in the table. */
  readonly id: number;
  /**
   * The timestamp column's value in microseconds, on the same scale as `databaseNow()` (timestamp+incrementing
   * mode); undefined in incrementing mode.
   */
  readonly timestamp: number | undefined;
}
