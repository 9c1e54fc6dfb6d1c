// @sluice/postgres/cdc: change data capture, query-based polling and backfills.
export { BACKFILL_TABLE, WATERMARK_TABLE } from './backfill-tables.js';
export {
  type ChangeCaptureSetup,
  createChangeCapture,
  dropChangeCapture,
} from './change-capture-setup.js';
export {
  createPostgresChangeSource,
  PostgresChangeSource,
  type PostgresChangeSourceOptions,
} from './postgres-change-source.js';
export { createPostgresPolledTable, PostgresPolledTable } from './postgres-polled-table.js';
export type { PostgresPolledTableOptions } from './postgres-polled-table-options.js';
export {
  createPostgresSnapshotter,
  PostgresSnapshotter,
  type PostgresSnapshotterOptions,
} from './postgres-snapshotter.js';
