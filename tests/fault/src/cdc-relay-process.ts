/**
 * A CDC relay process for the fault tests: reads a PostgreSQL slot (`PostgresChangeSource`) with backfills
 * (`withBackfill`, chunks of 50 so a backfill spans several kills; the tables given are snapshotted the first
 * time), maps the legacy tables to contract events and ships them to the embedded log at `busPath`, until killed.
 * Args: <postgres url> <slot> <publication> <bus path> [initial snapshot tables, comma-separated]. Sends `ready`
 * once started.
 */
import { jsonLogger, withBackfill } from '@sluice/core';
import { createPostgresSnapshotter, PostgresChangeSource } from '@sluice/postgres/cdc';
import pg from 'pg';
import { runCdcRelay } from './run-cdc-relay.js';

const [url, slot, publication, busPath, initialSnapshot] = process.argv.slice(2);
if (!url || !slot || !publication || !busPath)
  throw new Error('usage: <url> <slot> <publication> <bus path> [initial snapshot tables]');

const pool = new pg.Pool({ connectionString: url, max: 2 });
pool.on('error', () => undefined); // the server restarts under the fault tests
runCdcRelay(
  withBackfill(
    new PostgresChangeSource({ connectionString: url, slot, publication, heartbeatIntervalMs: 500 }),
    {
      snapshotter: createPostgresSnapshotter(pool, { chunkSize: 50 }),
      initialSnapshot: initialSnapshot ? initialSnapshot.split(',') : [],
      pollIntervalMs: 200,
      logger: jsonLogger('backfill'),
    },
  ),
  busPath,
);
