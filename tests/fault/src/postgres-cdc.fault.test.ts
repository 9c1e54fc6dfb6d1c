/**
 * PostgreSQL change data capture under fire: four writers insert, update and delete rows of a legacy table
 * (10% of transactions rolled back) while the CDC relay process (logical replication slot → embedded log) is
 * SIGKILLed again and again, and the server itself is restarted (fast, then immediate: a crash and recovery).
 * Afterwards the table materialized from the events on the bus must equal the table row for row, every write
 * whose commit was acknowledged must be on the bus, nothing rolled back may be, and each key's events must
 * follow commit order. The server is a private cluster, never the shared one. Meanwhile the relay's initial
 * snapshot backfills a 20,000-row `catalog` table that predates the slot, through the kills and restarts, while a
 * fifth writer changes it: its copy on the entity topic must equal it too.
 */
import { after, describe, it } from 'node:test';
import { createChangeCapture } from '@sluice/postgres/cdc';
import pg from 'pg';
import { catalogTableSql } from './cdc-catalog.js';
import { coursesTableSql } from './cdc-courses.js';
import { runCdcFault } from './cdc-fault-check.js';
import { isConnectionError } from './outage-tolerant-writers.js';
import { type PrivatePostgres, startPrivatePostgres } from './private-postgres.js';

const WRITE_SECONDS = 12;
const ROWS = 40;
/** Rows of the catalog table that predates the slot. */
const CATALOG_ROWS = 20_000;
const RESTARTS: readonly { at: number; mode: 'fast' | 'immediate' }[] = [
  { at: 4, mode: 'fast' },
  { at: 8, mode: 'immediate' },
];

describe('PostgreSQL CDC: the reader SIGKILLed and the server restarted mid-stream', () => {
  let server: PrivatePostgres | undefined;
  after(async () => {
    await server?.destroy();
  });

  it('the table materialized from the bus equals the source table; no committed change skipped', {
    timeout: 240_000,
  }, async (t) => {
    server = await startPrivatePostgres();
    const url = server.url;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    // A fast shutdown waits for each walsender's client to confirm the end of the WAL, up to wal_sender_timeout
    // (60 s, as long as pg_ctl waits): a relay caught mid-restart of its own must not fail the server's restart.
    await admin.query("ALTER SYSTEM SET wal_sender_timeout = '10s'");
    await admin.query('SELECT pg_reload_conf()');
    await admin.query(coursesTableSql('courses'));
    await admin.query(catalogTableSql('catalog'));
    await admin.query(
      `INSERT INTO catalog SELECT g, 'initial-' || g, g % 100 FROM generate_series(1, ${CATALOG_ROWS}) g`,
    );
    await createChangeCapture(admin, {
      slot: 'cdc_fault',
      publication: 'cdc_fault_pub',
      tables: ['courses', 'catalog'],
      fullBeforeImages: true,
    });
    await admin.end();
    await runCdcFault(t, {
      relayFixture: 'cdc-relay-process',
      relayArgs: (busPath) => [url, 'cdc_fault', 'cdc_fault_pub', busPath, 'public.catalog'],
      seconds: WRITE_SECONDS,
      rows: ROWS,
      restarts: RESTARTS.map(({ at, mode }) => ({ at, restart: () => server!.restart(mode) })),
      isConnectionError,
      connect: async () => {
        const client = await connect(url);
        return {
          begin: async () => void (await client.query('BEGIN')),
          upsert: async (id, title, published) =>
            void (await client.query(
              `INSERT INTO courses VALUES ($1, $2, $3)
               ON CONFLICT (id) DO UPDATE SET title = excluded.title, published = excluded.published`,
              [id, title, published],
            )),
          remove: async (id) => void (await client.query('DELETE FROM courses WHERE id = $1', [id])),
          commit: async () => void (await client.query('COMMIT')),
          rollback: async () => void (await client.query('ROLLBACK')),
          close: () => client.end(),
        };
      },
      catalog: {
        rows: CATALOG_ROWS,
        connect: async () => {
          const client = await connect(url);
          return {
            upsert: async (id, label) =>
              void (await client.query(
                `INSERT INTO catalog VALUES ($1, $2, 0)
                 ON CONFLICT (id) DO UPDATE SET label = excluded.label, stock = catalog.stock + 1`,
                [id, label],
              )),
            remove: async (id) => void (await client.query('DELETE FROM catalog WHERE id = $1', [id])),
            close: () => client.end(),
          };
        },
        readTable: async () =>
          new Map(
            (await rows<{ id: number; label: string; stock: number }>(url, 'SELECT * FROM catalog')).map(
              (r) => [`item-${r.id}`, `${r.label}/${r.stock}`],
            ),
          ),
        backfills: async () =>
          (await rows<{ status: string }>(url, 'SELECT status FROM sluice.cdc_backfill')).map(
            (r) => r.status,
          ),
      },
      readTable: async () => {
        const check = new pg.Client({ connectionString: url });
        await check.connect();
        const { rows } = await check.query<{ id: number; title: string; published: boolean }>(
          'SELECT * FROM courses',
        );
        await check.end();
        return new Map(rows.map((r) => [`course-${r.id}`, { title: r.title, published: r.published }]));
      },
    });
  });
});

/** The rows of one query, on a connection of its own. */
async function rows<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const check = new pg.Client({ connectionString: url });
  await check.connect();
  try {
    return (await check.query<R>(sql)).rows;
  } finally {
    await check.end();
  }
}

/** A connection of a writer: its errors (the server restarting) surface on its queries, never crash the run. */
async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect().catch(async (error: unknown) => {
    await client.end().catch(() => undefined);
    throw error;
  });
  return client;
}
