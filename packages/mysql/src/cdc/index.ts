// @sluice/mysql/cdc: change data capture, query-based polling and backfills.
export {
  BACKFILL_TABLE,
  createMysqlBackfillTables,
  WATERMARK_TABLE,
} from './mysql-backfill-tables.js';
export { createMysqlChangeSource, MysqlChangeSource } from './mysql-change-source.js';
export type { MysqlChangeSourceOptions } from './mysql-change-source-options.js';
export { createMysqlPolledTable, MysqlPolledTable } from './mysql-polled-table.js';
export type { MysqlPolledTableOptions } from './mysql-polled-table-options.js';
export { MysqlPositionStore, type MysqlPositionStoreOptions } from './mysql-position-store.js';
export {
  createMysqlSnapshotter,
  MysqlSnapshotter,
  type MysqlSnapshotterOptions,
} from './mysql-snapshotter.js';
