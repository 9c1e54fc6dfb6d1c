/**
 * A CDC relay process for the fault tests: reads a PostgreSQL slot (`PostgresChangeSource`), maps the legacy
 * courses table to contract events and ships them to the embedded log at `busPath`, until killed.
 * Args: <postgres url> <slot> <publication> <bus path>. Sends `ready` once started.
 */
import { PostgresChangeSource } from '@sluice/postgres';
import { runCdcRelay } from './run-cdc-relay.js';

const [url, slot, publication, busPath] = process.argv.slice(2);
if (!url || !slot || !publication || !busPath)
  throw new Error('usage: <url> <slot> <publication> <bus path>');

runCdcRelay(
  new PostgresChangeSource({ connectionString: url, slot, publication, heartbeatIntervalMs: 500 }),
  busPath,
);
