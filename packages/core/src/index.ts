// @sluice/core: what applications use. Declaring contracts, the relay and consumer runtimes, change data capture
// pipelines, the audit, errors and the types handlers receive. Adapter authors import `@sluice/core/adapter`;
// unit tests import the in-memory fakes from `@sluice/core/testing`.

// Audit
export type { AuditProblem, AuditProblemKind, AuditReport, RecordPosition } from './audit/audit-report.js';
export {
  type AuditedOutbox,
  type AuditProgress,
  type AuditTopicOptions,
  auditTopic,
} from './audit/audit-topic.js';
export { TopicAudit, type TopicAuditOptions } from './audit/topic-audit.js';
// Change data capture and backfills
export type { BackfillOptions } from './cdc/backfill/backfill-options.js';
export {
  assertBackfillAllowed,
  type BackfillPermissionSources,
  contractsFedBy,
  requestBackfill,
} from './cdc/backfill/backfill-permission.js';
export type { BackfillRequest } from './cdc/backfill/backfill-request.js';
export type { BackfillStats, BackfillTableStats } from './cdc/backfill/backfill-stats.js';
export { BackfillingSource, withBackfill } from './cdc/backfill/backfilling-source.js';
export type { BackfillOrder, Snapshotter } from './cdc/backfill/snapshotter.js';
export { type ChangeMapping, defineChangeMapping, type MappedEvent, mapped } from './cdc/change-mapping.js';
export { ChangeOutbox, type ChangeOutboxOptions, createChangeOutbox } from './cdc/change-outbox.js';
export type { ChangeSource, ChangeSourceStats } from './cdc/change-source.js';
export { FilePositionStore } from './cdc/file-position-store.js';
export type { PositionStore } from './cdc/position-store.js';
export type { PreflightCheck } from './cdc/preflight-check.js';
export type { QueryMode } from './cdc/query/polled-table.js';
export { createQueryChangeSource, QueryChangeSource } from './cdc/query/query-change-source.js';
export type { QueryChangeSourceOptions } from './cdc/query/query-change-source-options.js';
export type { RowChange, RowImage } from './cdc/row-change.js';
// Service config (`sluice run`)
export { type EnvRef, env, isEnvRef } from './config/env-ref.js';
export type {
  ChangesPipelineConfig,
  ConsumerPipelineConfig,
  PipelineConfig,
  PipelineConsumerSettings,
  PipelineRelaySettings,
  RelayPipelineConfig,
} from './config/pipeline-config.js';
export { resolveConfig, resolveEnvRefs } from './config/resolve-config.js';
export { defineConfig, type LogLevel, type SluiceConfig } from './config/sluice-config.js';
// Consumers
export { Consumer, createConsumer } from './consumer/consumer.js';
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
export {
  BREAKS_BACKWARD,
  BREAKS_FORWARD,
  type CompatibilityIssue,
  checkCompatibility,
} from './contracts/compat/check-compatibility.js';
export {
  checkLock,
  checkVersions,
  editOf,
  type LockFinding,
  matchesLocked,
} from './contracts/compat/check-lock.js';
export { diffSchemas } from './contracts/compat/diff-schemas.js';
export type { JsonSchema, SchemaChange } from './contracts/compat/schema-change.js';
export { SCHEMA_CHANGE_RULES, type SchemaChangeType } from './contracts/compat/schema-change-type.js';
export { COMPATIBILITY_MODES, type CompatibilityMode } from './contracts/compatibility-mode.js';
export type { Deprecation, FieldClassification } from './contracts/contract-guarantees.js';
// Contracts and key types
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
export { defineUpcaster, type Upcaster } from './contracts/define-upcaster.js';
// Contract exports: AsyncAPI, examples, fields (sluice contracts asyncapi | docs)
export {
  type AsyncApiDocument,
  type AsyncApiOptions,
  messageId,
  toAsyncApi,
} from './contracts/export/asyncapi.js';
export type { AsyncApiServer } from './contracts/export/asyncapi-servers.js';
export { exampleOf } from './contracts/export/example-value.js';
export { type SchemaField, schemaFields } from './contracts/export/schema-fields.js';
export { toJsonSchema } from './contracts/json-schema.js';
export { compareSharedKeys } from './contracts/keys/compare-shared-keys.js';
export type { KeyMismatch, KeyMismatchSide } from './contracts/keys/key-mismatch.js';
export { type KeyCarrier, type KeyCarriers, listKeyCarriers } from './contracts/keys/list-key-carriers.js';
export type { NamedLock } from './contracts/keys/named-lock.js';
export { buildLock, fingerprintOf, lockContract } from './contracts/lock/build-lock.js';
export { canonicalJson } from './contracts/lock/canonical-json.js';
export type { ContractsLock, LockedContract, LockedKey } from './contracts/lock/contracts-lock.js';
export {
  type MaskOptions,
  maskClassified,
  personalMask,
  SECRET_MASK,
} from './contracts/mask-classified.js';
// Envelope
export { decodeEnvelope, encodeEnvelope } from './envelope/codec.js';
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
  type EitherRetryableCode,
  type ErrorDoc,
  errorCatalogue,
  errorCode,
  errorMessage,
  InvalidOptionError,
  isDatabaseUnavailable,
  isRetryable,
  isSluiceErrorCode,
  MalformedEnvelopeError,
  MigrationRequiredError,
  PayloadTooLargeError,
  SluiceError,
  type SluiceErrorCode,
  type SluiceErrorOptions,
  TransportError,
} from './errors.js';
// Inbox and outbox: the interfaces stores implement (see @sluice/core/adapter), as applications hold them
export type { InboxStore } from './inbox/inbox-store.js';
export type { OutboxPartitionStats, OutboxStats, OutboxStore } from './outbox/outbox-store.js';
export type { VersionedEvent, VersionedEvents } from './outbox/prepare-versions.js';
// Relay
export { createRelay, Relay, type RelayStats } from './relay/relay.js';
export type { RelayOptions } from './relay/relay-options.js';
// Stores: the database holding Sluice's tables, chosen by URL
export { createStore } from './store/create-store.js';
export type { Store, StoreMigration } from './store/store.js';
export { type StoreConfig, type StoreKind, storeConfigOf, storeKindOf } from './store/store-config.js';
// Tracing (OpenTelemetry API; the application registers the SDK): see docs/tracing.md
export type { ProcessOutcome } from './tracing/process-span.js';
export { MAX_SEND_LINKS } from './tracing/send-span.js';
export { TRACER_NAME, TRACER_VERSION } from './tracing/sluice-tracer.js';
export {
  type BrokerKind,
  brokerKindOf,
  createTransport,
  transportConfigOf,
} from './transport/create-transport.js';
export type { PartitionLag } from './transport/partition-lag.js';
// Transport: the interface transports implement, and the records handlers and tools see
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
export type { Transport } from './transport/transport.js';
export type { TransportConfig } from './transport/transport-config.js';
// Utilities
export type { BackoffOptions } from './util/backoff.js';
export { jsonLogger, type Logger, silentLogger } from './util/logger.js';
