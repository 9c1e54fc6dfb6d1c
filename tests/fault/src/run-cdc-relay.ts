import { type ChangeSource, createChangeOutbox, createRelay, type Transport } from '@sluice/core';
import { sleep } from '@sluice/core/adapter';
import { createLogTransport } from '@sluice/sqlite';
import { cdcCatalog, mapCatalog } from './cdc-catalog.js';
import { cdcCourses, mapCourse } from './cdc-courses.js';

/**
 * The body of a CDC relay process: `source` mapped to course events (and the `catalog` table to catalogue
 * item events on an entity topic), shipped to the embedded log at `busPath`
 * until the process is killed; exits 1 if the relay stops; sends `ready` once started. With `publishDelayMs`, each
 * publish is acknowledged that much later, as over a network: a killed relay then always has changes read and
 * not yet delivered, which the next one must read again.
 */
export function runCdcRelay(source: ChangeSource, busPath: string, publishDelayMs = 0): void {
  const outbox = createChangeOutbox({
    source,
    map: (change) => (change.table === 'catalog' ? mapCatalog(change) : mapCourse(change)),
    eventSource: 'urn:service:legacy-courses',
  });
  const log = createLogTransport({ path: busPath });
  const transport: Transport =
    publishDelayMs === 0
      ? log
      : {
          name: log.name,
          ensureTopic: (spec) => log.ensureTopic(spec),
          publish: async (records) => {
            const acks = await log.publish(records);
            await sleep(publishDelayMs);
            return acks;
          },
          subscribe: (options) => log.subscribe(options),
          resetOffsets: (group, topic, target) => log.resetOffsets(group, topic, target),
          lag: (group, topic) => log.lag(group, topic),
          read: (topic, target, limit) => log.read(topic, target, limit),
          close: () => log.close(),
        };
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
}
