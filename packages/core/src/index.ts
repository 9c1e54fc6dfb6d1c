// Audit
export type {
  AuditProblem,
  AuditProblemKind,
  AuditReport,
  RecordPosition,
} from './audit/audit-report.js';
export {
  type AuditedOutbox,
  type AuditProgress,
  type AuditTopicOptions,
  auditTopic,
} from './audit/audit-topic.js';
export { TopicAudit, type TopicAuditOptions } from './audit/topic-audit.js';
// Contracts and key types

// Change data capture
export type { BackfillOptions } from './cdc/backfill/backfill-options.js';
export type { BackfillRequest } from './cdc/backfill/backfill-request.js';
export {
  type BackfillRow,
  backfillRequestFromRow,
  checkChunkSize,
  invalidWhereError,
  MAX_BACKFILL_CHUNK,
  noPrimaryKeyError,
} from './cdc/backfill/backfill-rows.js';
export { BackfillingSource, withBackfill } from './cdc/backfill/backfilling-source.js';
export { keyValues, rowKey } from './cdc/backfill/row-key.js';
export type { BackfillOrder, Snapshotter } from './cdc/backfill/snapshotter.js';
export { ChangeBuffer } from './cdc/change-buffer.js';
export { type ChangeMapping, type MappedEvent, mapped } from './cdc/change-mapping.js';
export {
  ChangeOutbox,
  type ChangeOutboxOptions,
  changeEventId,
  changeOutbox,
} from './cdc/change-outbox.js';
export type { ChangeSource, ChangeSourceStats } from './cdc/change-source.js';
export { FilePositionStore } from './cdc/file-position-store.js';
export type { PositionStore } from './cdc/position-store.js';
export type { PolledRow } from './cdc/query/polled-row.js';
export type { PolledTable, PolledTableFetch, QueryMode } from './cdc/query/polled-table.js';
export { checkPolledColumn, polledTableMissing } from './cdc/query/polled-table-errors.js';
export type { PolledTableLock } from './cdc/query/polled-table-lock.js';
export { QueryChangeSource, queryChangeSource } from './cdc/query/query-change-source.js';
export type { QueryChangeSourceOptions } from './cdc/query/query-change-source-options.js';
export type { QueryCursor } from './cdc/query/query-cursor.js';
export { POLLED_ID_COLUMN, POLLED_TIMESTAMP_COLUMN } from './cdc/query/sql-polled-row.js';
export { type PolledTableStatements, SqlPolledTable } from './cdc/query/sql-polled-table.js';
export { microsFromTimestampText, timestampTextFromMicros } from './cdc/query/timestamp-text.js';
export type { RowChange, RowImage } from './cdc/row-change.js';
export { Consumer, consume } from './consumer/consumer.js';
export type { ConsumeOptions, ConsumeOutcome } from './consumer/consumer-options.js';
export type { ConsumerStats } from './consumer/consumer-stats.js';
export {
  type DeadLetter,
  DLQ_HEADERS,
  parseDeadLetter,
  REDRIVEN_HEADER,
  redriveRecord,
} from './consumer/dead-letter.js';
export {
  type ConsumedEvent,
  type Handler,
  type HandlerContext,
  type HandlerFactory,
  type Handlers,
  handle,
} from './consumer/handler.js';
export type { SequenceProblem } from './consumer/sequence-rule.js';
export { type ContractRegistry, createRegistry } from './contracts/contract-registry.js';
export {
  checkEvent,
  defineEvent,
  type EventContract,
  type EventData,
  type EventInput,
} from './contracts/define-event.js';
export { defineKey, type KeyType } from './contracts/define-key.js';
export { defineTopic, type TopicKind, type TopicSpec } from './contracts/define-topic.js';
export { toJsonSchema } from './contracts/json-schema.js';
export { describe as describeValue } from './contracts/validate.js';
export { type BinaryMessage, fromBinary, toBinary } from './envelope/binary.js';
export { decodeEnvelope, encodeEnvelope } from './envelope/codec.js';
// Envelope
export type { Envelope, EventContext, SequenceKind } from './envelope/envelope.js';
export { STRUCTURED_CONTENT_TYPE } from './envelope/envelope.js';
export { uuidv7, uuidv7Time } from './envelope/uuidv7.js';
// Errors
export {
  ClosedError,
  type ContractIssue,
  ContractRegistryError,
  ContractViolationError,
  DATABASE_UNAVAILABLE,
  errorCode,
  errorMessage,
  InvalidOptionError,
  isDatabaseUnavailable,
  MalformedEnvelopeError,
  MigrationRequiredError,
  PayloadTooLargeError,
  SluiceError,
  TransportError,
} from './errors.js';
// Inbox and consumers
export type { ChainCheck } from './inbox/chain-check.js';
export type { BatchEvent, BatchOutcome, InboxStore } from './inbox/inbox-store.js';
export { CursorStates } from './outbox/cursor-states.js';
// Outbox and relay
export type {
  ListedOutboxRow,
  OutboxBatch,
  OutboxChain,
  OutboxChainListing,
  OutboxListing,
  OutboxPartitionStats,
  OutboxRow,
  OutboxStats,
  OutboxStore,
} from './outbox/outbox-store.js';
export { envelopeOf, type PreparedEvent, prepareEvent } from './outbox/prepare-event.js';
export type { RelayLease } from './outbox/relay-lease.js';
export {
  chainOf,
  forgetAcknowledged,
  type GateCandidate,
  releaseInSequence,
} from './outbox/sequence-gate.js';
// Partitioning
export { murmur2, partitionFor } from './partitioning/partition-for.js';
export { createRelay, Relay, type RelayStats } from './relay/relay.js';
export type { RelayOptions } from './relay/relay-options.js';
export { checkPollOptions, checkSubscribeOptions } from './transport/check-subscribe-options.js';
export { assignPartitions } from './transport/groups/assign-partitions.js';
export type { AssignableMember } from './transport/groups/assignable-member.js';
export { createMemoryTransport } from './transport/memory/memory-transport.js';
export { mergeByTime } from './transport/merge-by-time.js';
export type {
  ConsumedRecord,
  OutgoingRecord,
  PollOptions,
  PublishAck,
  SeekTarget,
  SubscribeOptions,
  TopicPartition,
} from './transport/records.js';
export type { Subscription } from './transport/subscription.js';
// Transport
export type { Transport } from './transport/transport.js';
export {
  invalidOffsetError,
  parseOffset,
  topicMismatchError,
  unknownTopicError,
} from './transport/transport-errors.js';
// Utilities
export { type BackoffOptions, backoffDelay } from './util/backoff.js';
export { integerOption } from './util/integer-option.js';
export { jsonLogger, type Logger, silentLogger } from './util/logger.js';
export { sleep } from './util/sleep.js';
export { waitForWake } from './util/wait-for-wake.js';
