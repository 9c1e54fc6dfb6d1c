/**
 * A CDC relay process for the fault tests: reads a PostgreSQL slot (`PostgresChangeSource`), maps the legacy
 * courses table to contract events and ships them to the embedded log at `busPath`, until killed.
 * Args: <postgres url> <slot> <publication> <bus path>. Sends `ready` once started.
 */
import { changeOutbox, createRelay } from '@sluice/core';
import { PostgresChangeSource } from '@sluice/postgres';
import { createLogTransport } from '@sluice/sqlite';
import { cdcCourses, mapCourse } from './cdc-courses.js';

const [url, slot, publication, busPath] = process.argv.slice(2);
if (!url || !slot || !publication || !busPath)
  throw new Error('usage: <url> <slot> <publication> <bus path>');

const source = new PostgresChangeSource({
  connectionString: url,
  slot,
  publication,
  heartbeatIntervalMs: 500,
});
const outbox = changeOutbox({ source, map: mapCourse, eventSource: 'urn:service:legacy-courses' });
const transport = createLogTransport({ path: busPath });
const relay = createRelay({
  outbox,
  transport,
  topics: [cdcCourses],
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
