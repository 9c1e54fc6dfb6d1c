import type Database from 'better-sqlite3';
import type { SqliteDatabase } from '../open-database.js';

type Stmt<P extends unknown[], R = unknown> = Database.Statement<P, R>;

/** A topic row. */
export interface TopicRow {
  readonly name: string;
  readonly kind: string;
  readonly partitions: number;
  readonly retention_ms: number | null;
}

/** A member row. */
export interface MemberRow {
  readonly member_id: string;
  readonly topics: string;
  readonly heartbeat_at: number;
  readonly session_timeout_ms: number;
}

/** A record row as fetched: `[offset, key, value, headers, timestamp]`. */
export type RecordRow = [
  offset: number,
  key: string,
  value: string | null,
  headers: string | null,
  timestamp: number,
];

const T = 'sluice_log_topics';
const P = 'sluice_log_partitions';
const R = 'sluice_log_records';
const E = 'sluice_log_entity_keys';
const M = 'sluice_log_members';
const O = 'sluice_log_offsets';

/** Every statement the embedded log runs, prepared once per connection. */
export class LogStatements {
  readonly selectTopic: Stmt<[string], TopicRow>;
  readonly selectTopics: Stmt<[], TopicRow>;
  readonly insertTopic: Stmt<[string, string, number, number | null]>;
  readonly updateRetention: Stmt<[number | null, string]>;
  readonly insertPartition: Stmt<[string, number]>;
  readonly selectNextOffset: Stmt<[string, number], number>;
  readonly updateNextOffset: Stmt<[number, string, number]>;
  readonly insertRecord: Stmt<[string, number, number, string, string | null, string | null, number]>;
  readonly deleteRecord: Stmt<[string, number, number]>;
  readonly deleteRecordsBefore: Stmt<[string, number, number]>;
  readonly selectEntityOffset: Stmt<[string, number, string], number>;
  readonly upsertEntityKey: Stmt<[string, number, string, number, number | null]>;
  readonly selectExpiredTombstones: Stmt<
    [number],
    { topic: string; partition: number; key: string; offset: number }
  >;
  readonly deleteEntityKey: Stmt<[string, number, string]>;
  readonly fetch: Stmt<[string, number, number, number, number], RecordRow>;
  readonly firstOffsetFrom: Stmt<[string, number, number], number>;
  readonly countFrom: Stmt<[string, number, number, number], number>;
  readonly upsertMember: Stmt<[string, string, string, number, number]>;
  readonly selectMember: Stmt<[string, string], MemberRow>;
  readonly selectMembers: Stmt<[string], MemberRow>;
  readonly deleteMember: Stmt<[string, string]>;
  readonly deleteExpiredMembers: Stmt<[number]>;
  readonly selectCommitted: Stmt<[string, string, number], number>;
  readonly commitOffset: Stmt<[string, string, number, number]>;
  readonly resetOffset: Stmt<[string, string, number, number]>;
  readonly dataVersion: Stmt<[], number>;

  constructor(db: SqliteDatabase) {
    this.selectTopic = db.prepare(`SELECT name, kind, partitions, retention_ms FROM ${T} WHERE name = ?`);
    this.selectTopics = db.prepare(`SELECT name, kind, partitions, retention_ms FROM ${T} ORDER BY name`);
    this.insertTopic = db.prepare(
      `INSERT INTO ${T} (name, kind, partitions, retention_ms) VALUES (?, ?, ?, ?)`,
    );
    this.updateRetention = db.prepare(`UPDATE ${T} SET retention_ms = ? WHERE name = ?`);
    this.insertPartition = db.prepare(
      `INSERT INTO ${P} (topic, partition, next_offset) VALUES (?, ?, 0) ON CONFLICT DO NOTHING`,
    );
    this.selectNextOffset = db
      .prepare<[string, number], number>(`SELECT next_offset FROM ${P} WHERE topic = ? AND partition = ?`)
      .pluck();
    this.updateNextOffset = db.prepare(`UPDATE ${P} SET next_offset = ? WHERE topic = ? AND partition = ?`);
    this.insertRecord = db.prepare(
      `INSERT INTO ${R} (topic, partition, offset, key, value, headers, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteRecord = db.prepare(`DELETE FROM ${R} WHERE topic = ? AND partition = ? AND offset = ?`);
    this.deleteRecordsBefore = db.prepare(
      `DELETE FROM ${R} WHERE topic = ? AND partition = ? AND offset < ?`,
    );
    this.selectEntityOffset = db
      .prepare<[string, number, string], number>(
        `SELECT offset FROM ${E} WHERE topic = ? AND partition = ? AND key = ?`,
      )
      .pluck();
    this.upsertEntityKey = db.prepare(
      `INSERT INTO ${E} (topic, partition, key, offset, tombstone_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (topic, partition, key) DO UPDATE SET offset = excluded.offset, tombstone_at = excluded.tombstone_at`,
    );
    this.selectExpiredTombstones = db.prepare(
      `SELECT topic, partition, key, offset FROM ${E} WHERE tombstone_at IS NOT NULL AND tombstone_at < ?`,
    );
    this.deleteEntityKey = db.prepare(`DELETE FROM ${E} WHERE topic = ? AND partition = ? AND key = ?`);
    this.fetch = db
      .prepare<[string, number, number, number, number], RecordRow>(
        `SELECT offset, key, value, headers, timestamp FROM ${R}
         WHERE topic = ? AND partition = ? AND offset >= ? AND timestamp >= ? ORDER BY offset LIMIT ?`,
      )
      .raw();
    this.firstOffsetFrom = db
      .prepare<[string, number, number], number>(
        `SELECT offset FROM ${R} WHERE topic = ? AND partition = ? AND timestamp >= ? ORDER BY offset LIMIT 1`,
      )
      .pluck();
    this.countFrom = db
      .prepare<[string, number, number, number], number>(
        `SELECT count(*) FROM ${R} WHERE topic = ? AND partition = ? AND offset >= ? AND timestamp >= ?`,
      )
      .pluck();
    this.upsertMember = db.prepare(
      `INSERT INTO ${M} (group_name, member_id, topics, heartbeat_at, session_timeout_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (group_name, member_id) DO UPDATE SET topics = excluded.topics,
         heartbeat_at = excluded.heartbeat_at, session_timeout_ms = excluded.session_timeout_ms`,
    );
    this.selectMember = db.prepare(
      `SELECT member_id, topics, heartbeat_at, session_timeout_ms FROM ${M} WHERE group_name = ? AND member_id = ?`,
    );
    this.selectMembers = db.prepare(
      `SELECT member_id, topics, heartbeat_at, session_timeout_ms FROM ${M} WHERE group_name = ? ORDER BY member_id`,
    );
    this.deleteMember = db.prepare(`DELETE FROM ${M} WHERE group_name = ? AND member_id = ?`);
    this.deleteExpiredMembers = db.prepare(`DELETE FROM ${M} WHERE heartbeat_at + session_timeout_ms < ?`);
    this.selectCommitted = db
      .prepare<[string, string, number], number>(
        `SELECT next_offset FROM ${O} WHERE group_name = ? AND topic = ? AND partition = ?`,
      )
      .pluck();
    this.commitOffset = db.prepare(
      `INSERT INTO ${O} (group_name, topic, partition, next_offset) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_name, topic, partition) DO UPDATE SET next_offset = excluded.next_offset
       WHERE excluded.next_offset > ${O}.next_offset`,
    );
    this.resetOffset = db.prepare(
      `INSERT INTO ${O} (group_name, topic, partition, next_offset) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_name, topic, partition) DO UPDATE SET next_offset = excluded.next_offset`,
    );
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  }
}
