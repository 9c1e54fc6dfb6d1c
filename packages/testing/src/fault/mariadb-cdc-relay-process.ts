/**
 * A CDC relay process for the MariaDB fault test: reads the binlog (`MysqlChangeSource`, its position in a
 * `MysqlPositionStore` on the same server), maps the legacy courses table to contract events and ships them to
 * the embedded log at `busPath` (each publish acknowledged `publish delay ms` later), until killed.
 * Args: <mysql url> <source name> <bus path> [publish delay ms]. Sends `ready` once started.
 */
import { MysqlChangeSource, MysqlPositionStore } from '@sluice/mysql';
import mysql from 'mysql2/promise';
import { runCdcRelay } from './run-cdc-relay.js';

const [url, name, busPath, delay] = process.argv.slice(2);
if (!url || !name || !busPath) throw new Error('usage: <url> <source name> <bus path>');

const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
const positionStore = new MysqlPositionStore(pool);
runCdcRelay(
  new MysqlChangeSource({ url, name, positionStore, tables: ['sluice.courses'], heartbeatIntervalMs: 500 }),
  busPath,
  Number(delay ?? 0),
);
