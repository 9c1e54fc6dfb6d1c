/**
 * A CDC relay process for the fault tests: reads a PostgreSQL slot (`PostgresChangeSource`) with backfills
 * (`withBackfill`: the `catalog` table, if captured, is snapshotted the first time), maps the legacy courses and
 * catalog tables to contract events and ships them to the embedded log at `busPath`, until killed.
 * Args: <postgres url> <slot> <publication> <bus path>. Sends `ready` once started.
 */
import { changeOutbox, createRelay, jsonLogger, withBackfill } from '@sluice/core';
import { PostgresChangeSource, postgresSnapshotter } from '@sluice/postgres';
import { createLogTransport } from '@sluice/sqlite';
import pg from 'pg';
import { cdcCatalog, mapCatalog } from './cdc-catalog.js';
import { cdcCourses, mapCourse } from './cdc-courses.js';

const [url, slot, publication, busPath, initialSnapshot] = process.argv.slice(2);
if (!url || !slot || !publication || !busPath)
  throw new Error('usage: <url> <slot> <publication> <bus path> [initial snapshot tables, comma-separated]');

const pool = new pg.Pool({ connectionString: url, max: 2 });
pool.on('error', () => undefined); // the server restarts under the fault tests
const source = withBackfill(
  new PostgresChangeSource({ connectionString: url, slot, publication, heartbeatIntervalMs: 500 }),
  {
    // Small chunks: the backfill spans several kills of this process.
    snapshotter: postgresSnapshotter(pool, { chunkSize: 50 }),
    initialSnapshot: initialSnapshot ? initialSnapshot.split(',') : [],
    pollIntervalMs: 200,
    logger: jsonLogger('backfill'),
  },
);
const outbox = changeOutbox({
  source,
  map: (change) => (change.table === 'catalog' ? mapCatalog(change) : mapCourse(change)),
  eventSource: 'urn:service:legacy-courses',
});
const transport = createLogTransport({ path: busPath });
const relay = createRelay({
  outbox,
  transport,
  topics: [cdcCourses, cdcCatalog],
  batchSize: 200,
  idleWaitMs: 50,
  backoff: { initialMs: 50, maxMs: 500 },
});
relay.start();
relay.done.catch((error: unknown) => {
  process.stderr.write(`cdc relay stopped: ${String(error)}\n`);
  process.exit(1);
});
process.send?.('ready');
