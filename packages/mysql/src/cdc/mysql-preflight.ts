import { errorMessage, type PreflightCheck } from '@sluice/core';
import mysql from 'mysql2/promise';
import { transactionsAhead } from './change-position.js';
import { purgedDomain } from './gtid-position.js';
import type { ResolvedMysqlChangeSourceOptions } from './mysql-change-source-options.js';

/**
 * The prerequisites of a MariaDB binlog source, read-only (no reader lock, no position saved): a MariaDB
 * server with `log_bin` ON, `binlog_format` ROW and `binlog_row_image` FULL; the user's REPLICATION SLAVE and
 * REPLICATION CLIENT (BINLOG MONITOR) privileges; and the stored position still in the server's binlogs.
 */
export async function mysqlPreflight(
  name: string,
  o: ResolvedMysqlChangeSourceOptions,
): Promise<PreflightCheck[]> {
  let db: mysql.Connection;
  try {
    db = await mysql.createConnection({ uri: o.url });
  } catch (error) {
    return [{ name: 'connection', ok: false, detail: `cannot reach the server: ${errorMessage(error)}` }];
  }
  db.on('error', () => undefined);
  const rows = async <R>(sql: string, params: unknown[] = []) => (await db.query(sql, params))[0] as R[];
  try {
    const s = (
      await rows<{ version: string; logBin: number; format: string; image: string }>(
        'SELECT VERSION() AS version, @@GLOBAL.log_bin AS logBin, @@GLOBAL.binlog_format AS format, @@GLOBAL.binlog_row_image AS image',
      )
    )[0]!;
    const setting = (setting: string, value: string, wanted: string, fix: string): PreflightCheck =>
      value === wanted
        ? { name: setting, ok: true, detail: value }
        : { name: setting, ok: false, detail: `is ${value}, not ${wanted}: ${fix}` };
    const checks: PreflightCheck[] = [
      /mariadb/i.test(s.version)
        ? { name: 'server', ok: true, detail: s.version }
        : {
            name: 'server',
            ok: false,
            detail: `is ${s.version}, not MariaDB (MySQL's GTIDs are not read yet)`,
          },
      setting(
        'log_bin',
        Number(s.logBin) === 1 ? 'ON' : 'OFF',
        'ON',
        'start the server with log_bin (a restart)',
      ),
      setting('binlog_format', s.format, 'ROW', 'SET GLOBAL binlog_format = ROW (and in the server config)'),
      setting(
        'binlog_row_image',
        s.image,
        'FULL',
        'SET GLOBAL binlog_row_image = FULL (and in the server config); before images would lack columns',
      ),
      privilegeCheck(
        Object.values(await rows<Record<string, string>>('SHOW GRANTS')).flatMap((r) => Object.values(r)),
      ),
    ];
    checks.push(await positionCheck(name, o, rows));
    return checks;
  } catch (error) {
    return [{ name: 'server settings', ok: false, detail: `could not read them: ${errorMessage(error)}` }];
  } finally {
    await db.end().catch(() => db.destroy());
  }
}

/** REPLICATION SLAVE (REPLICA) to read the binlog, REPLICATION CLIENT (BINLOG MONITOR) to list binlogs. */
function privilegeCheck(grants: readonly string[]): PreflightCheck {
  const global = grants.filter((g) => / ON \*\.\* TO /i.test(g)).join(' ');
  const all = /GRANT ALL PRIVILEGES ON \*\.\*/i.test(global);
  const missing = [
    all || /REPLICATION (SLAVE|REPLICA)\b/i.test(global) ? undefined : 'REPLICATION SLAVE',
    all || /REPLICATION CLIENT|BINLOG MONITOR/i.test(global) ? undefined : 'REPLICATION CLIENT',
  ].filter((m) => m !== undefined);
  return missing.length === 0
    ? { name: 'privileges', ok: true, detail: 'REPLICATION SLAVE, REPLICATION CLIENT' }
    : {
        name: 'privileges',
        ok: false,
        detail: `missing ${missing.join(' and ')}: GRANT ${missing.join(', ')} ON *.* TO the source's user`,
      };
}

async function positionCheck(
  name: string,
  o: ResolvedMysqlChangeSourceOptions,
  rows: <R>(sql: string, params?: unknown[]) => Promise<R[]>,
): Promise<PreflightCheck> {
  const check = `position of ${name}`;
  let stored: string | undefined;
  try {
    stored = await o.positionStore.load(o.name);
  } catch (error) {
    return {
      name: check,
      ok: false,
      detail: `cannot load it from the position store: ${errorMessage(error)}`,
    };
  }
  if (stored === undefined) {
    return {
      name: check,
      ok: true,
      detail:
        "none stored: the first run starts at the server's current position (rows already there need a backfill)",
    };
  }
  const current = String((await rows<{ p: string }>('SELECT @@GLOBAL.gtid_binlog_pos AS p'))[0]?.p ?? '');
  if (transactionsAhead(stored, current) > 0n) {
    return {
      name: check,
      ok: false,
      detail: `stored ${JSON.stringify(stored)} is past the server's binlog (${JSON.stringify(current)}): this server never wrote it (another server, or a restored one), so changes may be lost. Backfill the captured tables, then store the server's current @@gtid_binlog_pos as this source's position`,
    };
  }
  const files = await rows<{ Log_name: string }>('SHOW BINARY LOGS');
  const oldestFile = files[0]?.Log_name;
  if (oldestFile !== undefined) {
    const oldest = String(
      (await rows<{ p: string | null }>('SELECT BINLOG_GTID_POS(?, 4) AS p', [oldestFile]))[0]?.p ?? '',
    );
    if (purgedDomain(stored, oldest) !== undefined) {
      return {
        name: check,
        ok: false,
        detail: `stored ${JSON.stringify(stored)} was purged: the oldest binlog, ${oldestFile}, starts after ${JSON.stringify(oldest)}, so changes may be lost. Backfill the captured tables, then store the server's current @@gtid_binlog_pos as this source's position`,
      };
    }
  }
  return { name: check, ok: true, detail: `stored ${JSON.stringify(stored)}, still in the server's binlogs` };
}
