/**
 * A CDC relay process for the MariaDB fault test: reads the binlog (`MysqlChangeSource`, its position in a
 * `MysqlPositionStore` on the same server), maps the legacy courses table to contract events and ships them to
 * the embedded log at `busPath` (each publish acknowledged `publish delay ms` later), until killed; with backfills
 * (`withBackfill`, chunks of 50; the tables given are snapshotted the first time).
 * Args: <mysql url> <source name> <bus path> [publish delay ms] [initial snapshot tables]. Sends `ready` once started.
 */
import { jsonLogger, withBackfill } from '@sluice/core';
import { createMysqlSnapshotter, MysqlChangeSource, MysqlPositionStore } from '@sluice/mysql/cdc';
import mysql from 'mysql2/promise';
import { runCdcRelay } from './run-cdc-relay.js';

const [url, name, busPath, delay, initialSnapshot] = process.argv.slice(2);
if (!url || !name || !busPath)
  throw new Error('usage: <url> <source name> <bus path> [delay] [snapshot tables]');

const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
const positionStore = new MysqlPositionStore(pool);
const source = new MysqlChangeSource({
  url,
  name,
  positionStore,
  // The backfill's watermark table is captured too: its writes mark the chunks in the stream.
  tables: ['sluice.courses', 'sluice.catalog', 'sluice.cdc_watermark'],
  heartbeatIntervalMs: 500,
});
runCdcRelay(
  withBackfill(source, {
    snapshotter: createMysqlSnapshotter(pool, { database: 'sluice', chunkSize: 50 }),
    initialSnapshot: initialSnapshot ? initialSnapshot.split(',') : [],
    pollIntervalMs: 200,
    logger: jsonLogger('backfill'),
  }),
  busPath,
  Number(delay ?? 0),
);
