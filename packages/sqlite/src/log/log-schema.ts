/**
 * The embedded log's tables, created on open if missing (`CREATE … IF NOT EXISTS`, so every process sharing the
 * file may run them). All tables are `WITHOUT ROWID`, clustered on their primary key.
 */
export const LOG_SCHEMA: readonly string[] = [
  // One row per topic; kind and partitions never change once created.
  `CREATE TABLE IF NOT EXISTS sluice_log_topics (
  name         TEXT    NOT NULL PRIMARY KEY,
  kind         TEXT    NOT NULL,
  partitions   INTEGER NOT NULL,
  retention_ms INTEGER
) WITHOUT ROWID`,
  // The next offset of each partition, so offsets are never reused even after records are deleted.
  `CREATE TABLE IF NOT EXISTS sluice_log_partitions (
  topic       TEXT    NOT NULL,
  partition   INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (topic, partition)
) WITHOUT ROWID`,
  // The records; value NULL is a tombstone, headers NULL means none.
  `CREATE TABLE IF NOT EXISTS sluice_log_records (
  topic     TEXT    NOT NULL,
  partition INTEGER NOT NULL,
  offset    INTEGER NOT NULL,
  key       TEXT    NOT NULL,
  value     TEXT,
  headers   TEXT,
  timestamp INTEGER NOT NULL,
  PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID`,
  // Entity topics only: where the latest record of each key is, so a publish can delete the earlier one.
  `CREATE TABLE IF NOT EXISTS sluice_log_entity_keys (
  topic        TEXT    NOT NULL,
  partition    INTEGER NOT NULL,
  key          TEXT    NOT NULL,
  offset       INTEGER NOT NULL,
  tombstone_at INTEGER,
  PRIMARY KEY (topic, partition, key)
) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS sluice_log_entity_tombstones
  ON sluice_log_entity_keys (tombstone_at) WHERE tombstone_at IS NOT NULL`,
  // Live members of consumer groups; topics is a JSON array of the topics the member subscribed to.
  `CREATE TABLE IF NOT EXISTS sluice_log_members (
  group_name         TEXT    NOT NULL,
  member_id          TEXT    NOT NULL,
  topics             TEXT    NOT NULL,
  heartbeat_at       INTEGER NOT NULL,
  session_timeout_ms INTEGER NOT NULL,
  PRIMARY KEY (group_name, member_id)
) WITHOUT ROWID`,
  // Committed positions: the offset of the next record the group has not finished.
  `CREATE TABLE IF NOT EXISTS sluice_log_offsets (
  group_name  TEXT    NOT NULL,
  topic       TEXT    NOT NULL,
  partition   INTEGER NOT NULL,
  next_offset INTEGER NOT NULL,
  PRIMARY KEY (group_name, topic, partition)
) WITHOUT ROWID`,
];
