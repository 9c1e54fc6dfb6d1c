export {
  type AckedStoredAcrossRestartOptions,
  ackedStoredAcrossRestart,
} from './acked-stored-across-restart.js';
export {
  type AckedRecord,
  type AckedStoredPublishOptions,
  type AckedStoredVerdict,
  ackedStoredProblems,
  compareAckedStored,
  compareOffsets,
  describeRun,
  type Publishers,
  type PublishRun,
  readAll,
  startPublishers,
} from './acked-stored-check.js';
export { drainChanges, liveChangesInsideBackfill, startWriteLoops } from './backfill-drain.js';
export {
  type ChangeSourceHarness,
  type ChangeWriter,
  readChanges,
  runChangeSourceConformance,
} from './change-source-conformance.js';
export type { RawReader, RawRecord } from './cloudevents-conformance.js';
export { runInboxStoreConformance } from './inbox-store-conformance.js';
export type { InboxStoreHarness } from './inbox-store-harness.js';
export { killHard } from './kill-hard.js';
export { runOutboxStoreConformance } from './outbox-store-conformance.js';
export {
  type AppendedEvent,
  ItemAdded,
  ItemNoted,
  type OutboxStoreHarness,
  type OutboxWriter,
} from './outbox-store-harness.js';
export {
  memoryPositionStore,
  type PolledColumns,
  type PolledTableHarness,
  runPolledTableConformance,
  type WriterSession,
} from './polled-table-conformance.js';
export { type PositionStoreHarness, runPositionStoreConformance } from './position-store-conformance.js';
export { type PrivateMariadb, startPrivateMariadb } from './private-mariadb.js';
export { freePort, PrivateRedis } from './private-redis.js';
export {
  type AddedTarget,
  type PrometheusKit,
  type PrometheusSample,
  type PrometheusTarget,
  scrapedBy,
  scrapedByTestPrometheus,
} from './prometheus-kit.js';
export { runSnapshotterConformance, type SnapshotterHarness } from './snapshotter-conformance.js';
export { runStoreConformance, type StoreHarness } from './store-conformance.js';
export {
  runTransportConformance,
  type TransportConformanceOptions,
  type TransportHarness,
} from './transport-conformance.js';
