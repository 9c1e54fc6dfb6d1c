/**
 * A query-based liberation relay for the fault tests: polls `<schema>.items` in timestamp+incrementing mode
 * (`createQueryChangeSource` on `createPostgresPolledTable`), keeps its cursor in a `FilePositionStore` and ships the mapped
 * events to the embedded log at `busPath`, until killed.
 * Args: <postgres url> <schema> <positions path> <bus path>. Sends `ready` once started.
 */
import { createChangeOutbox, createQueryChangeSource, createRelay, FilePositionStore } from '@sluice/core';
import { createPostgresPolledTable } from '@sluice/postgres/cdc';
import { createLogTransport } from '@sluice/sqlite';
import pg from 'pg';
import { mapItem, queryItems } from './query-items.js';

const [url, schema, positionsPath, busPath] = process.argv.slice(2);
if (!url || !schema || !positionsPath || !busPath) {
  throw new Error('usage: <url> <schema> <positions path> <bus path>');
}

const pool = new pg.Pool({ connectionString: url, max: 4 });
pool.on('error', () => undefined);
const source = createQueryChangeSource({
  table: createPostgresPolledTable(pool, {
    schema,
    table: 'items',
    incrementingColumn: 'id',
    timestampColumn: 'updated_at',
  }),
  positions: new FilePositionStore(positionsPath),
  safetyDelayMs: 500,
  pollIntervalMs: 50,
});
const outbox = createChangeOutbox({ source, map: mapItem, eventSource: 'urn:service:legacy-items' });
const relay = createRelay({
  outbox,
  transport: createLogTransport({ path: busPath }),
  topics: [queryItems],
  batchSize: 100,
  idleWaitMs: 50,
  backoff: { initialMs: 50, maxMs: 300 },
});
relay.start();
relay.done.catch((error: unknown) => {
  process.stderr.write(`query relay stopped: ${String(error)}\n`);
  process.exit(1);
});
process.send?.('ready');
