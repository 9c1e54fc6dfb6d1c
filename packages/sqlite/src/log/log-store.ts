import { resolve } from 'node:path';
import {
  type ConsumedRecord,
  InvalidOptionError,
  type SeekTarget,
  type TopicKind,
  type TopicSpec,
  TransportError,
} from '@sluice/core';
import { DEFAULT_MESSAGE_RETENTION_MS, validateTopicSpec } from '@sluice/core/adapter';
import Database from 'better-sqlite3';
import { isSqliteBusy } from '../errors.js';
import { configureDatabase, type SqliteDatabase } from '../open-database.js';
import { LOG_NAME, parseOffset, storeError, topicMismatchError, unknownTopicError } from './log-errors.js';
import type { ResolvedLogOptions } from './log-options.js';
import { LOG_SCHEMA } from './log-schema.js';
import { LogStatements, type TopicRow } from './log-statements.js';

/** A topic as the log keeps it. */
export interface LogTopic {
  readonly name: string;
  readonly kind: TopicKind;
  readonly partitions: number;
  /** Retention of a `message` topic; `null` for other kinds. */
  readonly retentionMs: number | null;
}

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
let anonymous = 0;

/**
 * One connection to a log file: the prepared statements, the topic cache, and the reads and writes the
 * transport and its subscriptions share. Synchronous: better-sqlite3 runs every statement on the caller's thread.
 */
export class LogStore {
  readonly db: SqliteDatabase;
  readonly sql: LogStatements;
  readonly options: ResolvedLogOptions;
  /** Identifies the file among the transports of this process (the absolute path). */
  readonly file: string;
  readonly #topics = new Map<string, LogTopic>();
  readonly #transaction: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(options: ResolvedLogOptions) {
    this.options = options;
    const inMemory = options.path === ':memory:' || options.path.startsWith('file::memory:');
    this.file = inMemory ? `:memory:#${++anonymous}` : resolve(options.path);
    try {
      this.db = new Database(options.path);
      configureDatabase(this.db, { busyTimeoutMs: options.busyTimeoutMs, synchronous: 'FULL' });
    } catch (cause) {
      throw storeError('opening the log', options.path, cause);
    }
    this.#transaction = this.db.transaction((fn: () => unknown) => fn());
    this.write('creating the log tables', () => {
      for (const ddl of LOG_SCHEMA) this.db.exec(ddl);
    });
    this.sql = new LogStatements(this.db);
  }

  /**
   * Runs `fn` in a write transaction (`BEGIN IMMEDIATE`), mapping SQLite failures to `TransportError`s.
   * `durable: false` commits without waiting for the disk (`synchronous = NORMAL`): for writes whose loss in a
   * power cut is harmless (heartbeats, committed positions: consumers de-duplicate a redelivery), so they hold
   * the file's write lock for microseconds instead of an fsync and don't delay publishes.
   */
  write<T>(action: string, fn: () => T, options: { durable?: boolean } = {}): T {
    const relaxed = options.durable === false;
    try {
      if (relaxed) this.db.pragma('synchronous = NORMAL');
      return this.#transaction.immediate(fn) as T;
    } catch (cause) {
      throw storeError(action, this.options.path, cause);
    } finally {
      if (relaxed) this.db.pragma('synchronous = FULL');
    }
  }

  /**
   * Like `write`, but never waits for another process's write lock: returns `{ ok: false }` at once when the
   * file is busy. For writes that can as well happen a little later (committed positions, heartbeats), so a
   * consumer never blocks its thread in SQLite's busy handler while the relay's publish holds the lock.
   */
  tryWrite<T>(
    action: string,
    fn: () => T,
    options: { durable?: boolean } = {},
  ): { ok: true; value: T } | { ok: false } {
    this.db.pragma('busy_timeout = 0');
    try {
      return { ok: true, value: this.write(action, fn, options) };
    } catch (error) {
      if (isSqliteBusy(error)) return { ok: false };
      throw error;
    } finally {
      this.db.pragma(`busy_timeout = ${this.options.busyTimeoutMs}`);
    }
  }

  /** Runs a read, mapping SQLite failures to `TransportError`s. */
  read<T>(action: string, fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw storeError(action, this.options.path, cause);
    }
  }

  /** Creates the topic, or checks that it exists with the same kind and partition count. */
  ensureTopic(spec: TopicSpec): void {
    const wanted = validateSpec(spec);
    const topic = this.write(`ensureTopic(${spec.name})`, () => {
      const row = this.sql.selectTopic.get(wanted.name);
      if (row !== undefined) {
        if (row.kind !== wanted.kind || row.partitions !== wanted.partitions) {
          throw topicMismatchError(wanted.name, row, wanted);
        }
        if (row.retention_ms !== wanted.retentionMs)
          this.sql.updateRetention.run(wanted.retentionMs, wanted.name);
      } else {
        this.sql.insertTopic.run(wanted.name, wanted.kind, wanted.partitions, wanted.retentionMs);
      }
      for (let p = 0; p < wanted.partitions; p++) this.sql.insertPartition.run(wanted.name, p);
      return wanted;
    });
    this.#topics.set(topic.name, topic);
  }

  /** The topic, from the cache or the file (another process may have created it); `undefined` if missing. */
  findTopic(name: string): LogTopic | undefined {
    const cached = this.#topics.get(name);
    if (cached !== undefined) return cached;
    const row = this.read('reading topics', () => this.sql.selectTopic.get(name));
    if (row === undefined) return undefined;
    const topic = toTopic(row);
    this.#topics.set(name, topic);
    return topic;
  }

  /** The topic, or a `SLUICE_UNKNOWN_TOPIC` error. */
  topic(name: string): LogTopic {
    const topic = this.findTopic(name);
    if (topic === undefined) throw unknownTopicError(name);
    return topic;
  }

  /** Reloads every topic (retention may have been changed by another process). */
  reloadTopics(): LogTopic[] {
    const topics = this.read('reading topics', () => this.sql.selectTopics.all()).map(toTopic);
    for (const topic of topics) this.#topics.set(topic.name, topic);
    return topics;
  }

  /** Records stored before this time are expired and never returned. */
  oldestVisible(topic: LogTopic, now: number): number {
    return topic.retentionMs === null ? Number.MIN_SAFE_INTEGER : now - topic.retentionMs;
  }

  /** The offset the next record of the partition will get. */
  nextOffset(topic: string, partition: number): number {
    return this.sql.selectNextOffset.get(topic, partition) ?? 0;
  }

  /** The partitions `target` applies to: one for an `offset` target, all otherwise. */
  partitionsOf(topic: LogTopic, target: SeekTarget): number[] {
    if (target.to === 'offset') {
      if (
        !Number.isInteger(target.partition) ||
        target.partition < 0 ||
        target.partition >= topic.partitions
      ) {
        throw new TransportError(
          'SLUICE_INVALID_PARTITION',
          `${LOG_NAME}: topic ${topic.name} has partitions 0 to ${topic.partitions - 1}, got ${target.partition}`,
        );
      }
      return [target.partition];
    }
    return Array.from({ length: topic.partitions }, (_, p) => p);
  }

  /** The offset of the first record `target` designates in one partition (the next offset when none). */
  position(topic: LogTopic, partition: number, target: SeekTarget, now: number): number {
    switch (target.to) {
      case 'earliest':
        return this.#firstFrom(topic, partition, this.oldestVisible(topic, now));
      case 'latest':
        return this.nextOffset(topic.name, partition);
      case 'time':
        if (typeof target.time !== 'number' || !Number.isFinite(target.time)) {
          throw new InvalidOptionError(
            'seek',
            'time',
            `must be milliseconds since the epoch, got ${target.time}`,
          );
        }
        return this.#firstFrom(topic, partition, Math.max(target.time, this.oldestVisible(topic, now)));
      case 'offset':
        return parseOffset(target.offset);
      default:
        throw new InvalidOptionError(
          'seek',
          'to',
          `must be earliest, latest, time or offset, got ${String(target)}`,
        );
    }
  }

  /**
   * Appends to `out` up to `limit` visible records of one partition from offset `from`; returns the position
   * after the last one appended (or `from`).
   */
  fetch(
    topic: LogTopic,
    partition: number,
    from: number,
    limit: number,
    now: number,
    out: ConsumedRecord[],
  ): number {
    const rows = this.sql.fetch.all(topic.name, partition, from, this.oldestVisible(topic, now), limit);
    let next = from;
    for (const [offset, key, value, headers, timestamp] of rows) {
      out.push({
        topic: topic.name,
        partition,
        offset: String(offset),
        key,
        value,
        headers: headers === null ? EMPTY_HEADERS : (JSON.parse(headers) as Record<string, string>),
        timestamp,
      });
      next = offset + 1;
    }
    return next;
  }

  /** Closes the connection. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  #firstFrom(topic: LogTopic, partition: number, time: number): number {
    return (
      this.sql.firstOffsetFrom.get(topic.name, partition, time) ?? this.nextOffset(topic.name, partition)
    );
  }
}

function toTopic(row: TopicRow): LogTopic {
  return {
    name: row.name,
    kind: row.kind as TopicKind,
    partitions: row.partitions,
    retentionMs: row.kind === 'message' ? (row.retention_ms ?? DEFAULT_MESSAGE_RETENTION_MS) : null,
  };
}

function validateSpec(spec: TopicSpec): LogTopic {
  validateTopicSpec(spec);
  const retention = spec.kind === 'message' ? (spec.retentionMs ?? DEFAULT_MESSAGE_RETENTION_MS) : null;
  return {
    name: spec.name,
    kind: spec.kind,
    partitions: spec.partitions,
    retentionMs: retention === null ? null : Math.ceil(retention),
  };
}
