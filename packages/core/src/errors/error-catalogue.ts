/**
 * One entry of the {@link errorCatalogue}: what a code means, whether trying again can help, and what to do.
 */
export interface ErrorDoc {
  /** What happened, in one sentence. */
  readonly summary: string;
  /**
   * Whether trying the same call again later may succeed: the default `retryable` of a `SluiceError` with this
   * code, and so what `isRetryable` answers for it.
   */
  readonly retryable: boolean;
  /** What the operator or developer should do. */
  readonly action: string;
  /**
   * Set only on the few codes that are genuinely both retryable and not: says when a throw site passes the
   * other answer as `retryable`. Throw sites of every other code cannot override the catalogue.
   */
  readonly either?: string;
}

/**
 * Every `SLUICE_…` code Sluice throws, each documented once. Adapters use the same code for the same
 * situation: a broker that cannot be reached is `SLUICE_BROKER_UNAVAILABLE` on NATS, Redis and Kafka alike.
 * `docs/errors.md` is checked against this object by a unit test.
 */
const catalogue = {
  // Connectivity and load: the same codes in every adapter.
  SLUICE_BROKER_UNAVAILABLE: {
    summary:
      "A transport's broker cannot be reached or cannot serve now: nothing listens at its address, the connection was lost, or it is restarting, loading its data, electing a leader or failing over.",
    retryable: true,
    action:
      'Wait: the relay and consumers retry with backoff. If it lasts, check that the broker runs and the URL is right (`bash scripts/services <broker>` starts one for development).',
  },
  SLUICE_DATABASE_UNAVAILABLE: {
    summary:
      'A database (outbox, inbox, CDC source, position store) cannot be reached: connection refused or lost, server restarting or shutting down, too many connections.',
    retryable: true,
    action:
      'Wait: Sluice retries without spending the event’s attempts. If it lasts, check that the database runs and the URL is right.',
  },
  SLUICE_DATABASE_AUTH_FAILED: {
    summary:
      'The database refused the user name or password in the connection URL (shown with the password masked).',
    retryable: false,
    action:
      'Fix the user or password in the URL (`--db`, `SLUICE_DB` or the config file), or grant the user access.',
  },
  SLUICE_BUSY: {
    summary:
      'The server or file answered but could not take the request in time: another process held a lock it needed (SQLite SQLITE_BUSY/SQLITE_LOCKED, a MySQL lock wait timeout or deadlock, a PostgreSQL serialization failure, deadlock or lock not available), or Redis was running a script (BUSY) or out of memory (OOM).',
    retryable: true,
    action:
      'Nothing: the call is retried. If it recurs, look for long transactions holding locks, raise `busyTimeoutMs` for SQLite, or give Redis more memory.',
  },
  SLUICE_DISK_ERROR: {
    summary: 'Writing a SQLite file failed: disk full or an I/O error.',
    retryable: true,
    action: 'Free disk space and check the file’s permissions; the write is retried.',
  },
  SLUICE_DATABASE_ERROR: {
    summary:
      'One of Sluice’s own SQL statements failed for a reason retrying will not fix (a privilege missing, a constraint, a corrupt file).',
    retryable: false,
    action:
      'Read the cause in the message; check the database user’s privileges on Sluice’s tables and the server log.',
  },
  SLUICE_BROKER_ERROR: {
    summary:
      'The broker refused a command for a reason retrying will not fix (an error reply other than a transient one).',
    retryable: false,
    action:
      'Read the broker’s reply in the message; check the broker’s configuration and the user’s permissions.',
  },
  SLUICE_ADAPTER_MISSING: {
    summary:
      'An adapter package (or the driver it needs) is not installed, or the installed version does not provide what Sluice asked for.',
    retryable: false,
    action: 'Install the package the message names (`npm install <package>`) in the application.',
  },
  // Publishing.
  SLUICE_PUBLISH_UNCONFIRMED: {
    summary:
      'Some records of a publish were not acknowledged by the broker as stored (a failed or missing acknowledgement); earlier ones may be stored.',
    retryable: true,
    action: 'Nothing: the relay publishes the batch again; duplicates are dropped by event id downstream.',
  },
  SLUICE_PAYLOAD_TOO_LARGE: {
    summary: 'An event is larger than the transport accepts.',
    retryable: false,
    action: 'Keep large data elsewhere (object storage) and put a reference in the event.',
  },
  SLUICE_INVALID_RECORD: {
    summary: 'A record handed to a transport is malformed (a key, header or value of the wrong type).',
    retryable: false,
    action: 'Fix the code that builds the record; the message names the field.',
  },
  // Topics, offsets and partitions.
  SLUICE_UNKNOWN_TOPIC: {
    summary: 'A topic was used before it was declared on this transport.',
    retryable: false,
    action:
      'Call `transport.ensureTopic(spec)` (the relay does it for the topics of its contracts) before using it.',
  },
  SLUICE_TOPIC_MISMATCH: {
    summary: 'A topic exists with another kind or partition count than the one asked for.',
    retryable: false,
    action:
      'A topic never changes kind or partition count: declare a new topic (a version suffix) and move to it.',
  },
  SLUICE_INVALID_OFFSET: {
    summary: 'An offset is not one this transport could have produced.',
    retryable: false,
    action: 'Pass an offset taken from a `PublishAck` or a `ConsumedRecord`.',
  },
  SLUICE_OFFSET_OVERFLOW: {
    summary: 'A Redis stream id has a sequence number of 2^20 or more, which no offset can represent.',
    retryable: false,
    action: 'Let Sluice write the stream ids (never XADD to its streams by hand); move to a new topic.',
  },
  SLUICE_INVALID_PARTITION: {
    summary: 'A partition number is outside the topic’s partitions.',
    retryable: false,
    action: 'Pass a partition between 0 and the topic’s partition count minus one.',
  },
  // Contracts and envelopes.
  SLUICE_CONTRACT_VIOLATION: {
    summary:
      'An event’s data does not match its contract (at append or at consume time); the message lists each field.',
    retryable: false,
    action:
      'Fix the event data, or publish a new contract version if the shape changed. At consume time the event is dead-lettered.',
  },
  SLUICE_MALFORMED_ENVELOPE: {
    summary: 'Bytes on the bus are not a CloudEvents envelope Sluice can decode.',
    retryable: false,
    action: 'The record goes to the dead-letter topic; find the producer that wrote it.',
  },
  SLUICE_DUPLICATE_CONTRACT: {
    summary: 'The same event type and version was defined twice in one registry.',
    retryable: false,
    action: 'Keep one definition per type and version.',
  },
  SLUICE_DUPLICATE_DATASCHEMA: {
    summary: 'Two contracts declare the same `dataschema` URI.',
    retryable: false,
    action: 'Give each contract version its own dataschema.',
  },
  SLUICE_TOPIC_CONFLICT: {
    summary: 'Two contracts declare the same topic name with different specs (kind or partitions).',
    retryable: false,
    action: 'Declare each topic once (with `defineTopic`) and share it between contracts.',
  },
  SLUICE_ENTITY_TOPIC_KEYS: {
    summary:
      'Contracts published to one entity topic use different key types; the topic keeps the latest value per key, so one entity’s record would replace another’s.',
    retryable: false,
    action: 'Give each key type its own entity topic (or key the contracts by the same key type).',
  },
  SLUICE_KEY_CONFLICT: {
    summary:
      'Two contracts of one service use one key name with different definitions (JSON Schema or description), or a data field named like a key has another shape than the key.',
    retryable: false,
    action:
      'Declare each key once with `defineKey` and import it wherever it is used, and give fields named like a key the key’s schema (rename a field that holds another identifier).',
  },
  SLUICE_NO_JSON_SCHEMA: {
    summary: 'A contract’s schema cannot be exported as JSON Schema.',
    retryable: false,
    action: 'Use a validator that converts to JSON Schema (zod 4 does), or pass the JSON Schema explicitly.',
  },
  SLUICE_ASYNC_SCHEMA: {
    summary:
      'A contract’s schema validates asynchronously; Sluice validates inside transactions and needs a synchronous one.',
    retryable: false,
    action: 'Use a synchronous schema (no async refinements).',
  },
  SLUICE_VERSION_MISMATCH: {
    summary: 'Two Sluice packages of incompatible versions are installed together.',
    retryable: false,
    action: 'Install matching versions of `@sluice/core` and the adapter packages.',
  },
  // Outbox and inbox.
  SLUICE_APPEND_OUTSIDE_TRANSACTION: {
    summary: 'An event was appended on a connection pool instead of inside the caller’s transaction.',
    retryable: false,
    action: 'Pass the transaction’s connection to `outbox.append(tx, event)`.',
  },
  SLUICE_CONNECTION_IN_TRANSACTION: {
    summary:
      'A connection handed to a Sluice component (inbox, outbox statistics) is already inside a transaction.',
    retryable: false,
    action: 'Give the component a connection of its own.',
  },
  SLUICE_INBOX_ROLLED_BACK: {
    summary:
      'The database rolled the handler’s transaction back at commit (a statement in it had failed and the handler caught the error); nothing was applied.',
    retryable: true,
    action: 'Let the handler’s database errors propagate; the event is retried.',
  },
  SLUICE_INBOX_BATCH_FAILED: {
    summary: 'A batch of events applied in one transaction failed; nothing of it was applied.',
    retryable: true,
    action: 'Nothing: the consumer runs the events one by one, so the failing one is isolated.',
  },
  SLUICE_KEY_HELD: {
    summary:
      'An earlier event of this key was refused by the transport, so this one waits behind it (order per key).',
    retryable: true,
    action:
      'Look at the held key’s first error (`sluice status`); the key is released once its first event is published.',
  },
  // Migrations.
  SLUICE_MIGRATION_REQUIRED: {
    summary: 'A Sluice table is missing or older than this version of Sluice expects.',
    retryable: false,
    action: 'Run `sluice migrate` or pass `migrate: true`.',
  },
  SLUICE_MIGRATION_FAILED: {
    summary: 'A migration step failed; the steps before it are applied.',
    retryable: false,
    action:
      'Fix the cause in the message and run `sluice migrate` again (every step can be repeated safely).',
  },
  SLUICE_MIGRATION_LOCKED: {
    summary: 'Another process has been migrating the database for longer than Sluice waits.',
    retryable: true,
    action: 'Wait for it to finish, or look for a stuck `sluice migrate`.',
  },
  SLUICE_SCHEMA_TOO_NEW: {
    summary: 'The database was migrated by a newer version of Sluice than this one.',
    retryable: false,
    action: 'Upgrade this process’s Sluice packages.',
  },
  // Change data capture, polling and backfills.
  SLUICE_SOURCE_BUSY: {
    summary:
      'Another process reads this change source (it holds the replication slot, the binlog reader lock or the polling lock): one reader at a time.',
    retryable: true,
    action:
      'Nothing while the other reader runs (this one takes over when it stops or dies); otherwise stop the duplicate.',
  },
  SLUICE_CDC_STREAM_LOST: {
    summary: 'The replication stream (WAL or binlog) broke off.',
    retryable: true,
    action: 'Nothing: the next read starts again from the last acknowledged position.',
  },
  SLUICE_CDC_POSITION_PURGED: {
    summary:
      'The stored position is no longer on the server (binlog purged): changes in between may be lost.',
    retryable: false,
    action: 'Take a new snapshot (backfill) and reset the position; keep binlogs longer.',
  },
  SLUICE_CDC_POSITION_INVALID: {
    summary: 'A change source was asked to acknowledge a position it never handed over.',
    retryable: false,
    action: 'Acknowledge only positions read from this source.',
  },
  SLUICE_CDC_SERVER_UNSUITABLE: {
    summary:
      'The database server is not configured for change data capture (binlog format, row image, privileges).',
    retryable: false,
    action: 'Apply the server settings the message names and restart the source.',
  },
  SLUICE_CDC_UNSUPPORTED_GTID: {
    summary:
      'The binlog source read a transaction of a second replication domain, or a GTID sequence number of 2^53 or more, which it cannot order.',
    retryable: false,
    action: 'Capture each replication domain (gtid_domain_id) with its own source.',
  },
  SLUICE_CDC_SLOT_MISSING: {
    summary: 'The replication slot does not exist (dropped, or never created).',
    retryable: false,
    action: 'Create it again (changes since it was dropped are lost: backfill).',
  },
  SLUICE_CDC_SLOT_PLUGIN: {
    summary: 'The replication slot uses another output plugin than pgoutput.',
    retryable: false,
    action: 'Drop the slot and let Sluice create it.',
  },
  SLUICE_CDC_SLOT_INVALIDATED: {
    summary:
      'PostgreSQL invalidated the replication slot (it fell behind `max_slot_wal_keep_size`): changes were lost.',
    retryable: false,
    action: 'Drop and recreate the slot, then backfill.',
  },
  SLUICE_CHANGE_MAPPING_FAILED: {
    summary: 'A change mapping threw or returned something that is not a contract event.',
    retryable: false,
    action: 'Fix the mapping (or the contract) and restart the pipeline; the change is not skipped.',
  },
  SLUICE_CHANGE_SEQUENCE_INVALID: {
    summary: 'A change source handed over a change whose sequence or index is not a positive safe integer.',
    retryable: false,
    action:
      'Fix the change source (a custom one breaks the ChangeSource contract); the message names the change.',
  },
  SLUICE_POSITION_STORE_UNREADABLE: {
    summary: 'The file of a file position store cannot be read.',
    retryable: true,
    action: 'Check the file’s permissions and the disk.',
  },
  SLUICE_POSITION_STORE_CORRUPT: {
    summary: 'The file of a file position store does not hold valid positions.',
    retryable: false,
    action: 'Restore the file, or remove it to start again from the source’s beginning.',
  },
  SLUICE_QUERY_TABLE_MISSING: {
    summary: 'A polled table does not exist or cannot be seen by the user.',
    retryable: false,
    action: 'Check the table name and the user’s privileges.',
  },
  SLUICE_QUERY_COLUMN_INVALID: {
    summary: 'A polled table lacks the incrementing or timestamp column named, or it has the wrong type.',
    retryable: false,
    action: 'Fix the column option; the message names the column and the expected type.',
  },
  SLUICE_QUERY_ROW_INVALID: {
    summary:
      'A polled row cannot be handed over: its id or timestamp is not a positive integer, unique and increasing.',
    retryable: false,
    action: 'Fix the row or the column options.',
  },
  SLUICE_QUERY_POSITION_INVALID: {
    summary: 'A stored polling position cannot be parsed.',
    retryable: false,
    action: 'Reset the position of this source.',
  },
  SLUICE_BACKFILL_NO_PRIMARY_KEY: {
    summary: 'A table asked for in a backfill has no primary key, so it cannot be read in chunks.',
    retryable: false,
    action: 'Add a primary key, or backfill another way.',
  },
  SLUICE_BACKFILL_FORBIDDEN: {
    summary:
      'A backfill would send a table’s current state as events of a contract that forbids backfills (`backfill: false`): refused when requested (the contracts known), or by the relay when a snapshot row maps to such a contract.',
    retryable: false,
    action:
      'Backfill only tables that feed contracts allowing it; if the consumers need the state, the producing team sets `backfill: true`. A relay stopped by it: cancel the backfill (`sluice backfill --cancel ID`) and restart.',
  },
  // Usage and lifecycle.
  SLUICE_INVALID_OPTION: {
    summary: 'An option given to a Sluice component is missing or invalid; the message names the field.',
    retryable: false,
    action: 'Fix the option as the message says.',
  },
  SLUICE_CONFIG_INVALID: {
    summary:
      'A Sluice config file (`sluice.config.ts`) is missing, cannot be loaded, or declares something invalid; the message names the file and the field.',
    retryable: false,
    action:
      'Fix the config as the message says; `sluice check --config FILE` validates it without starting anything.',
  },
  SLUICE_CONFIG_ENV_MISSING: {
    summary: "A config value comes from an environment variable (`env('NAME')`) that is not set.",
    retryable: false,
    action: 'Set the variable named in the message (or give `env()` a default), then start again.',
  },
  SLUICE_USAGE: {
    summary: 'The `sluice` command line was used wrongly.',
    retryable: false,
    action: 'See `sluice <command> --help`.',
  },
  SLUICE_CLOSED: {
    summary: 'A component was used after `close()` or `stop()`.',
    retryable: false,
    action: 'Create a new one.',
  },
  SLUICE_INTERRUPTED: {
    summary: 'A command was interrupted (Ctrl-C) before it finished.',
    retryable: false,
    action: 'Run it again.',
  },
  // Consumers and dead letters.
  SLUICE_NO_HANDLER: {
    summary: 'A consumed event has a type or version no handler of the group handles.',
    retryable: false,
    action: 'The event is dead-lettered; add a handler (or an upcaster) and redrive it.',
  },
  SLUICE_UPCAST_FAILED: {
    summary:
      'An upcaster (defineUpcaster) threw, returned a promise, changed the key, or produced data its target contract refuses.',
    retryable: false,
    action: 'The event is dead-lettered at once with the upcaster named; fix the upcaster and redrive it.',
  },
  SLUICE_HANDLER_REJECTED: {
    summary:
      "An application handler refused an event for good: it threw `new SluiceError('SLUICE_HANDLER_REJECTED', reason)`.",
    retryable: false,
    action: 'The event is dead-lettered at once; fix the cause and redrive it.',
  },
  SLUICE_HANDLER_ERROR: {
    summary:
      'An error that is not a SluiceError (a handler’s own error, an unclassified driver error); dead letters and logs carry this code when the error has none.',
    retryable: true,
    action:
      'Consumers retry it with backoff and dead-letter the event after the last attempt; the relay and change sources retry it and log each failure. Read its message; throw `SLUICE_HANDLER_REJECTED` from a handler to skip the retries.',
  },
  // The demo.
  SLUICE_DEMO_CONNECT: {
    summary: 'The demo could not query PostgreSQL at the URL given.',
    retryable: false,
    action: 'Check `--db` and that the server runs.',
  },
  SLUICE_DEMO_SCHEMA_EXISTS: {
    summary: 'The schema the demo picked already exists.',
    retryable: false,
    action: 'Run the demo again (it picks a new name).',
  },
  SLUICE_DEMO_CLEANUP: {
    summary: 'The demo could not drop its schema.',
    retryable: false,
    action: 'Drop it with the statement in the message.',
  },
} as const satisfies Record<`SLUICE_${string}`, ErrorDoc>;

/** Every code a `SluiceError` can carry. Branch on it; never parse messages. */
export type SluiceErrorCode = keyof typeof catalogue;

/** Codes whose throw sites may override the catalogue's `retryable` (see {@link ErrorDoc.either}). */
export type EitherRetryableCode = {
  [C in SluiceErrorCode]: (typeof catalogue)[C] extends { either: string } ? C : never;
}[SluiceErrorCode];

/** The documentation of every {@link SluiceErrorCode}. */
export const errorCatalogue: Readonly<Record<SluiceErrorCode, ErrorDoc>> = catalogue;

/** Whether `code` is a code of the catalogue. */
export function isSluiceErrorCode(code: unknown): code is SluiceErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorCatalogue, code);
}
