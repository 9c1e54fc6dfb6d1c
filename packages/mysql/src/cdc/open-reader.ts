import { createHash } from 'node:crypto';
import { SluiceError } from '@sluice/core';
import { maskUrl } from '@sluice/core/adapter';
import mysql from 'mysql2/promise';
import { connectionError } from '../errors.js';
import type { BinlogLocation } from './binlog-lag.js';
import { purgedDomain } from './gtid-position.js';
import type { ResolvedMysqlChangeSourceOptions } from './mysql-change-source-options.js';

/** What a reader starts from: its control connection (holding the reader lock) and its position. */
export interface OpenedReader {
  readonly control: mysql.Connection;
  /** The GTID position to read after. */
  readonly position: string;
  /** Where in the binlog that is, when known. */
  readonly location: BinlogLocation | undefined;
}

/**
 * Opens a source's control connection, takes its reader lock, and finds where to read from: the stored
 * position, checked against the oldest binlog on the server, or (none stored) the server's current position,
 * saved first.
 */
export async function openReader(
  name: string,
  o: ResolvedMysqlChangeSourceOptions,
  onLost: (error: unknown) => void,
): Promise<OpenedReader> {
  let control: mysql.Connection;
  try {
    control = await mysql.createConnection({ uri: o.url });
  } catch (cause) {
    throw (
      connectionError(cause, `${maskUrl(o.url)} for ${name}`) ??
      new SluiceError(
        'SLUICE_DATABASE_UNAVAILABLE',
        `${name}: cannot reach the database (${String((cause as Error)?.message ?? cause)}); retrying`,
        { cause },
      )
    );
  }
  // The lock lives as long as this connection: losing it ends the reading.
  control.on('error', onLost);
  try {
    const [locked] = await control.query('SELECT GET_LOCK(?, ?) AS locked', [
      lockName(o.name),
      o.lockWaitMs / 1000,
    ]);
    if ((locked as { locked: number | null }[])[0]?.locked !== 1) {
      throw new SluiceError(
        'SLUICE_SOURCE_BUSY',
        `${name} is being read by another process (it holds the lock ${lockName(o.name)}); this source waits until it is free`,
      );
    }
    await checkServer(name, control);
    const stored = await o.positionStore.load(o.name);
    if (stored === undefined) {
      const [rows] = await control.query('SELECT @@GLOBAL.gtid_binlog_pos AS position');
      const position = String((rows as { position: string }[])[0]?.position ?? '');
      const [status] = await control.query('SHOW MASTER STATUS');
      const s = (status as { File: string; Position: number }[])[0];
      await o.positionStore.save(o.name, position);
      return {
        control,
        position,
        location: s === undefined ? undefined : { file: s.File, offset: Number(s.Position) },
      };
    }
    await checkNotPurged(name, control, stored);
    return { control, position: stored, location: undefined };
  } catch (error) {
    control.destroy();
    throw error;
  }
}

/** The `GET_LOCK` name of a source (at most 64 characters). */
export function lockName(name: string): string {
  const full = `sluice_cdc:${name}`;
  return full.length <= 64
    ? full
    : `sluice_cdc:${createHash('sha256').update(name).digest('hex').slice(0, 48)}`;
}

async function checkNotPurged(name: string, control: mysql.Connection, stored: string): Promise<void> {
  const [files] = await control.query('SHOW BINARY LOGS');
  const oldestFile = (files as { Log_name: string }[])[0]?.Log_name;
  if (oldestFile === undefined) return;
  const [rows] = await control.query('SELECT BINLOG_GTID_POS(?, 4) AS position', [oldestFile]);
  const oldest = String((rows as { position: string | null }[])[0]?.position ?? '');
  const domain = purgedDomain(stored, oldest);
  if (domain === undefined) return;
  throw new SluiceError(
    'SLUICE_CDC_POSITION_PURGED',
    `${name} cannot resume from its stored position ${JSON.stringify(stored)}: the server purged the binlog after it (its oldest binlog, ${oldestFile}, starts after ${JSON.stringify(oldest)}, domain ${domain}). Changes committed between those two positions may be lost. Re-snapshot (backfill) the captured tables so consumers catch up, then store the server's current @@gtid_binlog_pos as this source's position (or delete it to start from now)`,
  );
}

/** The server must be a MariaDB writing a row-based binlog with full row images. */
async function checkServer(name: string, control: mysql.Connection): Promise<void> {
  const [rows] = await control.query(
    'SELECT VERSION() AS version, @@GLOBAL.log_bin AS logBin, @@GLOBAL.binlog_format AS format, @@GLOBAL.binlog_row_image AS image',
  );
  const s = (rows as { version: string; logBin: number; format: string; image: string }[])[0]!;
  const wrong = [
    /mariadb/i.test(s.version)
      ? undefined
      : `the server is ${s.version}, not MariaDB (MySQL's GTIDs are not read yet)`,
    Number(s.logBin) === 1 ? undefined : 'log_bin is off',
    s.format === 'ROW' ? undefined : `binlog_format is ${s.format}, not ROW`,
    s.image === 'FULL'
      ? undefined
      : `binlog_row_image is ${s.image}, not FULL (before images would lack columns)`,
  ].filter((w) => w !== undefined);
  if (wrong.length === 0) return;
  throw new SluiceError(
    'SLUICE_CDC_SERVER_UNSUITABLE',
    `${name} cannot capture changes from this server: ${wrong.join('; ')}. Set log_bin, binlog_format=ROW and binlog_row_image=FULL on a MariaDB server (see the @sluice/mysql README)`,
  );
}
