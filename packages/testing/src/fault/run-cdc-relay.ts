import { type ChangeSource, changeOutbox, createRelay } from '@sluice/core';
import { createLogTransport } from '@sluice/sqlite';
import { cdcCourses, mapCourse } from './cdc-courses.js';

/**
 * The body of a CDC relay process: `source` mapped to course events, shipped to the embedded log at `busPath`
 * until the process is killed; exits 1 if the relay stops; sends `ready` once started.
 */
export function runCdcRelay(source: ChangeSource, busPath: string): void {
  const outbox = changeOutbox({ source, map: mapCourse, eventSource: 'urn:service:legacy-courses' });
  const relay = createRelay({
    outbox,
    transport: createLogTransport({ path: busPath }),
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
}
