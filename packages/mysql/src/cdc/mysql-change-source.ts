import {
  type ChangeSource,
  type ChangeSourceStats,
  type PreflightCheck,
  type RowChange,
  SluiceError,
} from '@sluice/core';
import { ChangeBuffer } from '@sluice/core/adapter';
import ZongJi from '@vlasky/zongji';
import type mysql from 'mysql2/promise';
import { type BinlogEvent, EVENTS, OPERATION } from './binlog-event.js';
import { type BinlogLocation, binlogBytesAfter } from './binlog-lag.js';
import { formatChangePosition, parseChangePosition, transactionsAhead } from './change-position.js';
import { advanceGtidPosition, parseGtid } from './gtid-position.js';
import {
  type MysqlChangeSourceOptions,
  type ResolvedMysqlChangeSourceOptions,
  resolveMysqlChangeSourceOptions,
} from './mysql-change-source-options.js';
import { mysqlPreflight } from './mysql-preflight.js';
import { lockName, openReader } from './open-reader.js';
import { rowImage } from './row-image.js';

/** A transaction being received or read, until it is acknowledged whole. */
interface Transaction {
  /** Its GTID sequence number: the changes' `sequence`. */
  readonly sequence: number;
  readonly gtid: string;
  /** The GTID position before it, and where in the binlog that is. */
  readonly before: string;
  readonly beforeLocation: BinlogLocation | undefined;
  afterLocation: BinlogLocation | undefined;
  readonly commitTime: number;
  readonly standalone: boolean;
  changes: number;
  committed: boolean;
}

/**
 * Change data capture from MariaDB's row-based binlog (`binlog_format=ROW`, `binlog_row_image=FULL`), read as
 * a replica would with `@vlasky/zongji`, from a GTID position kept in a {@link PositionStore}. The binlog holds
 * committed transactions only, in commit order, so changes are handed over as they arrive.
 *
 * The stored position moves only up to what `acknowledge` was told was delivered: a change in the middle of a
 * transaction stores the position before that transaction, so a restart replays the whole transaction; the
 * last change of a transaction stores the position after it. With no stored position the source starts at the
 * server's current GTID position, and saves it before the first `read` returns (existing rows are for a
 * snapshot or backfill to bring).
 *
 * One reader per `name` at a time (`GET_LOCK` on a connection held while reading); a stored position whose
 * binlog the server purged is a permanent error saying what may be lost and how to recover.
 */
export class MysqlChangeSource implements ChangeSource {
  readonly name: string;
  readonly #o: ResolvedMysqlChangeSourceOptions;
  #control: mysql.Connection | undefined;
  #zongji: ZongJi | undefined;
  #starting: Promise<void> | undefined;
  readonly #buffer: ChangeBuffer;
  #receiving: Transaction | undefined;
  readonly #transactions = new Map<number, Transaction>();
  /** The GTID position after the last whole event group received, and where in the binlog that is. */
  #streamPosition = '';
  #streamLocation: BinlogLocation | undefined;
  #saved: string | undefined;
  #savedLocation: BinlogLocation | undefined;
  #saving: Promise<void> = Promise.resolve();
  #lastAcknowledged: string | undefined;
  #domain: number | undefined;
  #lastEventAt = 0;
  #paused = false;
  #timer: NodeJS.Timeout | undefined;
  /** Counts streams started and stopped. */
  #generation = 0;
  #closed = false;

  constructor(options: MysqlChangeSourceOptions) {
    this.#o = resolveMysqlChangeSourceOptions(options);
    this.name = `mysql:${this.#o.name}`;
    this.#buffer = new ChangeBuffer(this.#o.maxBuffered);
  }

  async read(limit: number, maxWaitMs: number, signal?: AbortSignal): Promise<RowChange[]> {
    if (this.#closed) throw new SluiceError('SLUICE_CLOSED', `${this.name} is closed`);
    this.#starting ??= this.#open();
    try {
      await this.#starting;
    } catch (error) {
      this.#starting = undefined;
      await this.#stop();
      throw error;
    }
    const out = await this.#buffer.take(limit, maxWaitMs, signal);
    if (out === undefined) throw await this.#restartAfter();
    if (this.#paused && this.#buffer.low) this.#resume();
    return out;
  }

  async acknowledge(position: string): Promise<void> {
    const p = parseChangePosition(position);
    if (p === undefined) {
      throw new SluiceError(
        'SLUICE_CDC_POSITION_INVALID',
        `${this.name} was asked to acknowledge ${JSON.stringify(position)}, which is no position it handed over`,
      );
    }
    const transaction = this.#transactions.get(Number(parseGtid(p.gtid)!.sequence));
    const whole = transaction?.committed === true && p.index === transaction.changes - 1;
    this.#lastAcknowledged = position;
    if (whole) {
      for (const s of this.#transactions.keys()) if (s <= transaction.sequence) this.#transactions.delete(s);
      await this.#save(advanceGtidPosition(p.before, p.gtid), transaction.afterLocation);
    } else {
      // Part of a transaction: store the position before it, so a restart replays all of it.
      await this.#save(p.before, transaction?.beforeLocation);
    }
  }

  async stats(): Promise<ChangeSourceStats> {
    const oldest = this.#transactions.values().next().value?.commitTime ?? this.#buffer.first?.commitTime;
    const control = this.#control;
    const lagBytes =
      control === undefined ? null : await binlogBytesAfter(control, this.#savedLocation).catch(() => null);
    return { lagBytes, lagMs: oldest === undefined ? null : Math.max(0, Date.now() - oldest) };
  }

  /** Server settings, privileges and the stored position, read-only (no lock taken, nothing saved). */
  preflight(): Promise<readonly PreflightCheck[]> {
    return mysqlPreflight(this.name, this.#o);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#saving;
    await this.#stop();
  }

  async #open(): Promise<void> {
    // Whatever the connections of an earlier stream still report (errors as they close) is ignored.
    const generation = ++this.#generation;
    const current = () => generation === this.#generation;
    const reader = await openReader(this.name, this.#o, (error) => current() && this.#fail(error));
    this.#control = reader.control;
    this.#saved = reader.position;
    this.#savedLocation = reader.location;
    this.#streamPosition = reader.position;
    this.#streamLocation = reader.location;
    const zongji = new ZongJi({ uri: this.#o.url, dateStrings: true, timezone: 'Z' } as never);
    this.#zongji = zongji;
    zongji.on('error', (error: unknown) => current() && this.#fail(error));
    zongji.on('binlog', (event: unknown) => current() && this.#receive(event as BinlogEvent));
    zongji.start({
      gtidSet: reader.position,
      serverId: this.#o.serverId,
      includeEvents: EVENTS,
      includeSchema: this.#o.include as Record<string, true | string[]>,
    });
    // Queued before the dump command on the binlog connection: the server then sends heartbeats while idle.
    const binlog = (zongji as unknown as { connection?: { query(sql: string, cb: () => void): void } })
      .connection;
    binlog?.query(
      `SET @master_heartbeat_period = ${this.#o.heartbeatIntervalMs * 1_000_000}`,
      () => undefined,
    );
    this.#lastEventAt = Date.now();
    this.#timer = setInterval(() => this.#tick(), this.#o.heartbeatIntervalMs);
    this.#timer.unref();
  }

  #receive(event: BinlogEvent): void {
    this.#lastEventAt = Date.now();
    const name = event.getEventName();
    switch (name) {
      case 'rotate':
        this.#streamLocation = { file: String(event['binlogName']), offset: Number(event['position']) };
        return;
      case 'heartbeat':
        if (this.#receiving === undefined && typeof event['binlogName'] === 'string') {
          const offset = Number(event['position'] ?? event.nextPosition);
          if (offset > 0) this.#streamLocation = { file: event['binlogName'], offset };
        }
        return;
      case 'mariadbgtid':
        this.#begin(event);
        return;
      case 'xid':
      case 'xaprepare':
        this.#commit(event);
        return;
      case 'query':
        // A DDL statement is a group of its own; non-transactional tables end theirs with COMMIT or ROLLBACK.
        if (this.#receiving?.standalone === true || /^\s*(COMMIT|ROLLBACK)\b/i.test(String(event['query']))) {
          this.#commit(event);
        }
        return;
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        this.#rows(OPERATION[name], event);
        return;
      default:
        return;
    }
  }

  #begin(event: BinlogEvent): void {
    const gtid = String(event['gtid']);
    const sequence = Number(event['seqNo']);
    const before = this.#streamPosition;
    this.#receiving = {
      sequence,
      gtid,
      before,
      beforeLocation: this.#streamLocation,
      afterLocation: undefined,
      commitTime: event.timestamp,
      standalone: event['standalone'] === true,
      changes: 0,
      committed: false,
    };
  }

  #commit(event: BinlogEvent): void {
    const transaction = this.#receiving;
    this.#receiving = undefined;
    if (transaction === undefined) return;
    this.#streamPosition = advanceGtidPosition(transaction.before, transaction.gtid);
    if (this.#streamLocation !== undefined && event.nextPosition > 0) {
      this.#streamLocation = { file: this.#streamLocation.file, offset: event.nextPosition };
    }
    transaction.afterLocation = this.#streamLocation;
    transaction.committed = true;
  }

  #rows(operation: 'insert' | 'update' | 'delete', event: BinlogEvent): void {
    const transaction = this.#receiving;
    if (transaction === undefined) return;
    if (!this.#checkSequence(transaction)) return;
    const tables = event['tableMap'] as Record<
      number,
      { parentSchema: string; tableName: string; columns?: { name: string; type: number }[] }
    >;
    const table = tables[event['tableId'] as number];
    if (table === undefined) return;
    if (transaction.changes === 0) this.#transactions.set(transaction.sequence, transaction);
    for (const row of event['rows'] as Record<string, unknown>[]) {
      const index = transaction.changes++;
      const image = (r: unknown) => rowImage(r as Record<string, unknown>, table.columns);
      this.#buffer.push({
        operation,
        schema: table.parentSchema,
        table: table.tableName,
        before: operation === 'insert' ? undefined : image(operation === 'update' ? row['before'] : row),
        after: operation === 'delete' ? undefined : image(operation === 'update' ? row['after'] : row),
        transactionId: transaction.gtid,
        commitTime: transaction.commitTime,
        position: formatChangePosition({ before: transaction.before, gtid: transaction.gtid, index }),
        sequence: transaction.sequence,
        index,
      });
    }
    if (this.#buffer.full) this.#pause();
  }

  /** Sequences must order transactions: one replication domain, safe integers. */
  #checkSequence(transaction: Transaction): boolean {
    const domain = parseGtid(transaction.gtid)?.domain;
    this.#domain ??= domain;
    if (domain === this.#domain && Number.isSafeInteger(transaction.sequence) && transaction.sequence > 0)
      return true;
    this.#fail(
      new SluiceError(
        'SLUICE_CDC_UNSUPPORTED_GTID',
        `${this.name} read transaction ${transaction.gtid}, whose sequence number cannot order it: this source reads one replication domain (gtid_domain_id ${this.#domain}) with sequence numbers below 2^53. Capture each domain with its own source, or write the captured tables from one domain`,
      ),
    );
    return false;
  }

  /** Every heartbeat period: notice a dead connection, and store the position while everything is delivered. */
  #tick(): void {
    if (!this.#paused && Date.now() - this.#lastEventAt > 3 * this.#o.heartbeatIntervalMs) {
      this.#fail(new Error(`no binlog event or heartbeat for ${3 * this.#o.heartbeatIntervalMs} ms`));
      return;
    }
    const idle =
      this.#buffer.length === 0 &&
      this.#receiving === undefined &&
      this.#lastAcknowledged === this.#buffer.lastHandedOut;
    // More than one transaction behind: one would be this store's own last save, if it writes to this server.
    if (idle && transactionsAhead(this.#streamPosition, this.#saved) > 1n) {
      this.#transactions.clear();
      void this.#save(this.#streamPosition, this.#streamLocation).catch((error: unknown) =>
        this.#fail(error),
      );
    }
  }

  /** Stores `position` if it is ahead of the stored one; saves run one at a time, in order. */
  #save(position: string, location: BinlogLocation | undefined): Promise<void> {
    const next = this.#saving.then(async () => {
      if (transactionsAhead(position, this.#saved) === 0n) return;
      await this.#o.positionStore.save(this.#o.name, position);
      this.#saved = position;
      if (location !== undefined) this.#savedLocation = location;
    });
    this.#saving = next.catch(() => undefined);
    return next;
  }

  /** Pauses the binlog connection; again on every change past the limit, since the decoder resumes it itself after
   * fetching a table's columns. */
  #pause(): void {
    this.#paused = true;
    (this.#zongji as unknown as { connection?: { pause(): void } })?.connection?.pause();
  }

  #resume(): void {
    this.#paused = false;
    this.#lastEventAt = Date.now();
    (this.#zongji as unknown as { connection?: { resume(): void } })?.connection?.resume();
  }

  #fail(error: unknown): void {
    if (!this.#closed) this.#buffer.fail(error);
  }

  /** The stream broke: start again from the stored position on the next read. */
  async #restartAfter(): Promise<SluiceError> {
    const stopped = this.#stop();
    const error = this.#buffer.takeFailure();
    // The lock is released before the error is told, so the next read does not find this reader's own lock.
    await stopped;
    if (error instanceof SluiceError) return error;
    const errno = (error as { errno?: unknown } | null)?.errno;
    const detail = String((error as Error)?.message ?? error);
    if (errno === 1236) {
      return new SluiceError(
        'SLUICE_CDC_POSITION_PURGED',
        `${this.name} cannot read the binlog from its stored position ${this.#saved ?? '(none)'}: ${detail}. The server no longer has (or never had) the binlog after that position, so changes committed since may be lost. Re-snapshot (backfill) the captured tables, then store the server's current @@gtid_binlog_pos as this source's position`,
        { cause: error },
      );
    }
    return new SluiceError(
      'SLUICE_CDC_STREAM_LOST',
      `the binlog stream of ${this.name} broke (${detail}); reading again from the last acknowledged position`,
      { cause: error },
    );
  }

  /** Ends the stream and forgets what it was receiving; the next `read` starts again from the stored position. */
  async #stop(): Promise<void> {
    this.#generation++;
    this.#starting = undefined;
    this.#receiving = undefined;
    this.#transactions.clear();
    this.#paused = false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const zongji = this.#zongji;
    const control = this.#control;
    this.#zongji = undefined;
    this.#control = undefined;
    if (zongji !== undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000); // a frozen or dead server never answers the stop
        zongji.once('stopped', () => {
          clearTimeout(timer);
          resolve();
        });
        zongji.stop();
      });
      zongji.removeAllListeners('binlog');
      zongji.on('error', () => undefined);
    }
    // The reader lock is released explicitly first: ending the connection releases it too, but only once the
    // server has handled the disconnect, after `end()` resolved, so a reader opened right after `close()` could
    // still find it taken. A frozen server never answers, so the connection is closed after a second regardless.
    if (control !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        control
          .query('SELECT RELEASE_LOCK(?)', [lockName(this.#o.name)])
          .catch(() => undefined)
          .then(() => control.end()),
        new Promise((resolve) => (timer = setTimeout(resolve, 1_000))),
      ]).catch(() => undefined);
      clearTimeout(timer);
      control.destroy();
    }
  }
}

/** Opens a change data capture source on a MySQL / MariaDB binlog (see {@link MysqlChangeSource}). */
export function createMysqlChangeSource(options: MysqlChangeSourceOptions): MysqlChangeSource {
  return new MysqlChangeSource(options);
}
