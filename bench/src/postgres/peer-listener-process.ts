/**
 * Child process running pg-transactional-outbox's replication listener on a peer outbox the parent set up
 * (schema, table, publication, slot), with the benchmark's handler publishing each message to the embedded
 * log at `bus`. Reports to the parent every 50 ms: how many messages were handed to the handler and, with
 * `ids` = 1, each one's id and arrival time. On a `stop` message it reports its mean log batch and the errors
 * the library logged or left unhandled, stops the listener and exits.
 * argv: <url> <schema> <concurrency> <bus path> <ids 0|1>
 */
import { enrollmentsTopic } from '@sluice/example-enrollments';
import { createLogTransport } from '@sluice/sqlite';
import { LogBatcher } from './log-batcher.js';
import { openPool } from './open-pool.js';
import { peerHandler } from './peer-handler.js';
import { type PeerConcurrency, PeerOutbox } from './peer-outbox.js';

const [url, schema, concurrency, busPath, ids] = process.argv.slice(2) as [
  string,
  string,
  PeerConcurrency,
  string,
  string,
];
const pool = openPool(url, 1);
const peer = PeerOutbox.attach(pool, url, schema);
const bus = createLogTransport({ path: busPath });
await bus.ensureTopic(enrollmentsTopic);
const batcher = new LogBatcher(bus);
let handled = 0;
let arrived: [string, number][] = [];
peer.listen(
  peerHandler(batcher, (message, at) => {
    handled++;
    if (ids === '1') arrived.push([message.id, at]);
  }),
  concurrency,
);
const report = setInterval(() => {
  process.send?.({ handled, arrived });
  arrived = [];
}, 50);
process.on('message', async (m: { stop?: boolean }) => {
  if (!m.stop) return;
  clearInterval(report);
  process.send?.({
    handled,
    arrived,
    final: { meanBatch: batcher.meanBatch, errors: peer.errors.snapshot() },
  });
  await peer.stopListener(5_000);
  await bus.close();
  process.disconnect?.();
  process.exit(0);
});
process.send?.({ ready: true });
