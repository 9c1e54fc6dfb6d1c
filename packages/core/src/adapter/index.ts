// @sluice/core/adapter: what adapter authors use to implement stores, transports and change sources: the
// interfaces (also exported as types by `@sluice/core`), the relay's release gate and cursor states, consumer
// group assignment, polled-table SQL, backfill rows, and the helpers every adapter shares.

export {
  type BackfillRow,
  backfillRequestFromRow,
  checkChunkSize,
  invalidWhereError,
  MAX_BACKFILL_CHUNK,
  noPrimaryKeyError,
} from '../cdc/backfill/backfill-rows.js';
export { keyValues, rowKey } from '../cdc/backfill/row-key.js';
export type { BackfillOrder, Snapshotter } from '../cdc/backfill/snapshotter.js';
export { ChangeBuffer } from '../cdc/change-buffer.js';
export { changeEventId } from '../cdc/change-outbox.js';
export type { ChangeSource, ChangeSourceStats } from '../cdc/change-source.js';
export type { PositionStore } from '../cdc/position-store.js';
export type { PolledRow } from '../cdc/query/polled-row.js';
export type { PolledTable, PolledTableFetch, QueryMode } from '../cdc/query/polled-table.js';
export { checkPolledColumn, polledTableMissing } from '../cdc/query/polled-table-errors.js';
export type { PolledTableLock } from '../cdc/query/polled-table-lock.js';
export type { QueryCursor } from '../cdc/query/query-cursor.js';
export { POLLED_ID_COLUMN, POLLED_TIMESTAMP_COLUMN } from '../cdc/query/sql-polled-row.js';
export { type PolledTableStatements, SqlPolledTable } from '../cdc/query/sql-polled-table.js';
export { microsFromTimestampText, timestampTextFromMicros } from '../cdc/query/timestamp-text.js';
export { warnDeprecatedAppend } from '../contracts/deprecation-notice.js';
export { describe as describeValue } from '../contracts/validate.js';
export { type BinaryMessage, fromBinary, toBinary } from '../envelope/binary.js';
export {
  type DatabaseErrorKind,
  type DatabaseErrors,
  type DatabaseErrorWords,
  databaseErrors,
} from '../errors/database-errors.js';
export type { ChainCheck } from '../inbox/chain-check.js';
export type { BatchEvent, BatchOutcome, InboxStore } from '../inbox/inbox-store.js';
export { CursorStates } from '../outbox/cursor-states.js';
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
} from '../outbox/outbox-store.js';
export { envelopeOf, type PreparedEvent, prepareEvent } from '../outbox/prepare-event.js';
export { prepareVersions } from '../outbox/prepare-versions.js';
export type { RelayLease } from '../outbox/relay-lease.js';
export {
  chainOf,
  forgetAcknowledged,
  type GateCandidate,
  releaseInSequence,
} from '../outbox/sequence-gate.js';
export { murmur2, partitionFor } from '../partitioning/partition-for.js';
export { type StoreParts, storeOf } from '../store/store-of.js';
export { checkPollOptions, checkSubscribeOptions } from '../transport/check-subscribe-options.js';
export { assignPartitions } from '../transport/groups/assign-partitions.js';
export type { AssignableMember } from '../transport/groups/assignable-member.js';
export { createGroupMember, GroupMember } from '../transport/groups/group-member.js';
export type {
  GroupClock,
  GroupMemberOptions,
  PartitionCursor,
} from '../transport/groups/group-member-options.js';
export type {
  ClaimAnswer,
  CommitPosition,
  HeartbeatResult,
  MembershipStore,
  StoredMember,
} from '../transport/groups/membership-store.js';
export { mergeByTime } from '../transport/merge-by-time.js';
export type {
  ConsumedRecord,
  OutgoingRecord,
  PollOptions,
  PublishAck,
  SeekTarget,
  SubscribeOptions,
  TopicPartition,
} from '../transport/records.js';
export type { Subscription } from '../transport/subscription.js';
export type { Transport } from '../transport/transport.js';
export {
  invalidOffsetError,
  parseOffset,
  topicMismatchError,
  unknownTopicError,
} from '../transport/transport-errors.js';
export {
  DEFAULT_MESSAGE_RETENTION_MS,
  MAX_PARTITIONS,
  TOPIC_NAME_RULE,
  TOPIC_NAME_RULE_TEXT,
  validateTopicSpec,
} from '../transport/validate-topic-spec.js';
export { type BackoffOptions, backoffDelay } from '../util/backoff.js';
export { integerOption } from '../util/integer-option.js';
export { hostOf, maskUrl } from '../util/mask-url.js';
export { sleep } from '../util/sleep.js';
export { waitForWake } from '../util/wait-for-wake.js';
