/**
 * MariaDB change data capture under fire: four writers insert, update and delete rows of a legacy table (10% of
 * transactions rolled back) while the CDC relay process (binlog → embedded log, its position in a table of the
 * same server) is SIGKILLed again and again, and the server itself is restarted (SIGTERM, then SIGKILL: a crash
 * and recovery). Afterwards the table materialized from the events on the bus must equal the table row for row,
 * every write whose commit was acknowledged must be on the bus, nothing rolled back may be, and each key's
 * events must follow commit order. The server is a private one, never the shared one. Meanwhile the relay's
 * initial snapshot backfills a 20,000-row `catalog` table that predates the capture, through the kills and
 * restarts, while a fifth writer changes it: its copy on the entity topic must equal it too.
 */

import { after, describe, it } from 'node:test';
import { createMysqlBackfillTables, MysqlPositionStore } from '@sluice/mysql/cdc';
import { type PrivateMariadb, startPrivateMariadb } from '@sluice/testing';
import mysql from 'mysql2/promise';
import { catalogTableSql } from './cdc-catalog.js';
import { coursesTableSql } from './cdc-courses.js';
import { runCdcFault } from './cdc-fault-check.js';

const WRITE_SECONDS = 12;
const ROWS = 40;
/** Rows of the catalog table that predates the capture. */
const CATALOG_ROWS = 20_000;
const RESTARTS: readonly { at: number; signal: NodeJS.Signals }[] = [
  { at: 4, signal: 'SIGTERM' },
  { at: 8, signal: 'SIGKILL' },
];

/** A lost or refused connection, or a server shutting down: what a restart does to a writer. */
function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; fatal?: unknown; message?: unknown } | null;
  if (e?.fatal === true) return true;
  if (typeof e?.errno === 'number' && [1053, 1927, 2006, 2013].includes(e.errno)) return true;
  return /ECONNREFUSED|ECONNRESET|EPIPE|PROTOCOL_CONNECTION_LOST|closed state|Connection lost/i.test(
    `${String(e?.code)} ${String(e?.message)}`,
  );
}

describe('MariaDB CDC: the reader SIGKILLed and the server restarted mid-stream', () => {
  let server: PrivateMariadb | undefined;
  after(async () => {
    await server?.destroy();
  });

  it('the table materialized from the bus equals the source table; no committed change skipped', {
    timeout: 240_000,
  }, async (t) => {
    server = await startPrivateMariadb();
    const url = server.url;
    const admin = await mysql.createConnection({ uri: url });
    await admin.query(coursesTableSql('sluice.courses'));
    // A catalog that predates the capture: only the relay's initial snapshot can carry its rows.
    await admin.query(catalogTableSql('sluice.catalog'));
    for (let from = 1; from <= CATALOG_ROWS; from += 5000) {
      const batch = Array.from({ length: Math.min(5000, CATALOG_ROWS - from + 1) }, (_, i) => {
        const id = from + i;
        return [id, `initial-${id}`, id % 100];
      });
      await admin.query('INSERT INTO sluice.catalog VALUES ?', [batch]);
    }
    await createMysqlBackfillTables(admin, 'sluice');
    // Capture starts here, before the first write (as a PostgreSQL slot made before the writers would): a source
    // with no stored position would start wherever the server is when the relay first reads.
    const [[{ position }]] = (await admin.query('SELECT @@gtid_binlog_pos AS position')) as unknown as [
      [{ position: string }],
    ];
    await new MysqlPositionStore(admin).save('cdc_fault', position);
    await admin.end();
    await runCdcFault(t, {
      relayFixture: 'mariadb-cdc-relay-process',
      // Publishes acknowledged 20 ms late, as over a network: every kill leaves changes read and not delivered.
      relayArgs: (busPath) => [url, 'cdc_fault', busPath, '20', 'sluice.catalog'],
      replays: true,
      seconds: WRITE_SECONDS,
      rows: ROWS,
      restarts: RESTARTS.map(({ at, signal }) => ({ at, restart: () => server!.restart(signal) })),
      isConnectionError,
      connect: async () => {
        const c = await mysql.createConnection({ uri: url });
        c.on('error', () => undefined);
        return {
          begin: () => c.beginTransaction(),
          upsert: async (id, title, published) =>
            void (await c.query(
              `INSERT INTO sluice.courses VALUES (?, ?, ?)
               ON DUPLICATE KEY UPDATE title = VALUES(title), published = VALUES(published)`,
              [id, title, published],
            )),
          remove: async (id) => void (await c.query('DELETE FROM sluice.courses WHERE id = ?', [id])),
          commit: () => c.commit(),
          rollback: () => c.rollback(),
          close: async () => c.destroy(),
        };
      },
      catalog: {
        rows: CATALOG_ROWS,
        connect: async () => {
          const c = await mysql.createConnection({ uri: url });
          c.on('error', () => undefined);
          return {
            upsert: async (id, label) =>
              void (await c.query(
                `INSERT INTO sluice.catalog VALUES (?, ?, 0)
                 ON DUPLICATE KEY UPDATE label = VALUES(label), stock = stock + 1`,
                [id, label],
              )),
            remove: async (id) => void (await c.query('DELETE FROM sluice.catalog WHERE id = ?', [id])),
            close: async () => c.destroy(),
          };
        },
        readTable: async () =>
          new Map(
            (
              await rows<{ id: number; label: string; stock: number }>(url, 'SELECT * FROM sluice.catalog')
            ).map((r) => [`item-${r.id}`, `${r.label}/${r.stock}`]),
          ),
        backfills: async () =>
          (await rows<{ status: string }>(url, 'SELECT status FROM sluice.cdc_backfill')).map(
            (r) => r.status,
          ),
      },
      readTable: async () => {
        const check = await mysql.createConnection({ uri: url });
        const [rows] = await check.query('SELECT id, title, published FROM sluice.courses');
        await check.end();
        return new Map(
          (rows as { id: number; title: string; published: number }[]).map((r) => [
            `course-${r.id}`,
            { title: r.title, published: r.published === 1 },
          ]),
        );
      },
    });
  });
});

/** The rows of one query, on a connection of its own. */
async function rows<R>(url: string, sql: string): Promise<R[]> {
  const check = await mysql.createConnection({ uri: url });
  try {
    return (await check.query(sql))[0] as R[];
  } finally {
    await check.end();
  }
}
