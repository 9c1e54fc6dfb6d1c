import {
  type ChangeSource,
  type ChangeSourceStats,
  InvalidOptionError,
  type PreflightCheck,
  type RowChange,
  SluiceError,
} from '@sluice/core';
import { ChangeBuffer } from '@sluice/core/adapter';
import pg from 'pg';
import type { Pgoutput } from 'pg-logical-replication';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { connectionError } from '../errors.js';
import { lsnToNumber, numberToLsn } from './lsn.js';
import { postgresPreflight } from './postgres-preflight.js';

export interface PostgresChangeSourceOptions {
  /** The source database, as a role with REPLICATION. */
  readonly connectionString: string;
  /** The permanent slot made by `createChangeCapture`; never created here. */
  readonly slot: string;
  readonly publication: string;
  /**
   * The tables (`schema.table`, or `table` in `public`) this source is meant to capture: `preflight`
   * (`sluice check`) fails when the publication does not cover one. Reading takes whatever the publication
   * publishes, listed here or not. Default none.
   */
  readonly tables?: readonly string[];
  /** Changes held in memory before the replication stream is paused. Default 10,000. */
  readonly maxBuffered?: number;
  /**
   * How often the source asks the server where its WAL is and, when everything read was delivered, confirms
   * that position, so that a slot whose tables are idle does not hold WAL back. Default 10,000 ms.
   */
  readonly heartbeatIntervalMs?: number;
}

const TABLE = /^(?:[a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,62}$/;

/** A transaction being received or read, until it is confirmed. */
interface Transaction {
  /** Its commit LSN as a number: the changes' `sequence`. */
  readonly sequence: number;
  readonly commitLsn: string;
  readonly xid: string;
  readonly commitTime: number;
  changes: number;
  committed: boolean;
}

/**
 * Change data capture from PostgreSQL's WAL: logical replication with the built-in `pgoutput` plugin, through a
 * publication and a permanent slot (see `createChangeCapture`). The server sends each transaction once it has
 * committed, in commit order, so changes are handed over as they arrive.
 *
 * The slot's position is confirmed only up to what `acknowledge` was told was delivered (never what was merely
 * received): a change in the middle of a transaction confirms the position just before that transaction, so a
 * restart replays the whole transaction; the last change of a committed transaction confirms the transaction.
 * A crash therefore replays, never skips. While everything read has been delivered, the server's position from
 * its keepalives is confirmed, so idle tables hold no WAL.
 *
 * A missing slot or one whose WAL the server removed (`wal_status = lost`) is a permanent error saying what may
 * be lost and how to recover; a slot read by another process is a retryable one (one reader at a time).
 */
export class PostgresChangeSource implements ChangeSource {
  readonly name: string;
  readonly #o: Required<PostgresChangeSourceOptions>;
  #admin: pg.Client | undefined;
  #service: LogicalReplicationService | undefined;
  #starting: Promise<void> | undefined;
  readonly #buffer: ChangeBuffer;
  /** The transaction whose messages are arriving. */
  #receiving: Transaction | undefined;
  readonly #transactions = new Map<number, Transaction>();
  /** The LSN last confirmed to the server, as passed to the library (which reports it plus one as flushed). */
  #confirmed = 0;
  #lastAcknowledged: string | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PostgresChangeSourceOptions) {
    for (const field of ['slot', 'publication'] as const) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options[field] ?? '')) {
        throw new InvalidOptionError('PostgresChangeSource', field, 'must be a lower-case identifier');
      }
    }
    if (options.tables !== undefined && !options.tables.every((t) => TABLE.test(t))) {
      throw new InvalidOptionError(
        'PostgresChangeSource',
        'tables',
        'must name tables as schema.table or table',
      );
    }
    this.#o = { maxBuffered: 10_000, heartbeatIntervalMs: 10_000, tables: [], ...options };
    this.#buffer = new ChangeBuffer(this.#o.maxBuffered);
    this.name = `postgres:${options.slot}`;
  }

  async read(limit: number, maxWaitMs: number, signal?: AbortSignal): Promise<RowChange[]> {
    await this.#start();
    const out = await this.#buffer.take(limit, maxWaitMs, signal);
    if (out === undefined) throw this.#restartAfter();
    if (this.#buffer.low) this.#stream()?.resume();
    return out;
  }

  async acknowledge(position: string): Promise<void> {
    const [lsn, index] = position.split('#');
    const sequence = lsnToNumber(lsn ?? '');
    const transaction = this.#transactions.get(sequence);
    const whole = transaction?.committed === true && Number(index) === transaction.changes - 1;
    // All of the transaction: confirm its commit (a restart skips it). Part of it: confirm just before it.
    this.#confirm(whole ? sequence : sequence - 1);
    if (whole) {
      for (const s of this.#transactions.keys()) if (s <= sequence) this.#transactions.delete(s);
    }
    this.#lastAcknowledged = position;
  }

  async stats(): Promise<ChangeSourceStats> {
    const oldest = this.#buffer.first?.commitTime;
    let lagBytes: number | null = null;
    if (this.#admin !== undefined) {
      const r = await this.#admin.query<{ lag: string | null }>(
        'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1',
        [this.#o.slot],
      );
      const lag = r.rows[0]?.lag;
      lagBytes = lag === undefined || lag === null ? null : Number(lag);
    }
    return { lagBytes, lagMs: oldest === undefined ? null : Math.max(0, Date.now() - oldest) };
  }

  /** wal_level, REPLICATION, publication and tables, slot and wal_status, room for a sender (read-only). */
  preflight(): Promise<readonly PreflightCheck[]> {
    return postgresPreflight(this.#o);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stop();
  }

  #start(): Promise<void> {
    if (this.#closed) throw new SluiceError('SLUICE_CLOSED', `${this.name} is closed`);
    this.#starting ??= this.#open().catch(async (error: unknown) => {
      this.#starting = undefined;
      await this.#stop();
      throw error;
    });
    return this.#starting;
  }

  async #open(): Promise<void> {
    const admin = new pg.Client({ connectionString: this.#o.connectionString });
    admin.on('error', () => undefined);
    this.#admin = admin;
    try {
      await admin.connect();
    } catch (cause) {
      throw connectionError(cause, `PostgreSQL for ${this.name}`) ?? unavailable(this.name, cause);
    }
    this.#confirmed = (await this.#checkSlot(admin)) - 1;
    const service = new LogicalReplicationService(
      { connectionString: this.#o.connectionString },
      // Never the library's own acknowledgements: they would confirm what was received, not delivered.
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } },
    );
    this.#service = service;
    service.on('data', (_lsn: string, message: Pgoutput.Message) => this.#receive(message));
    service.on('heartbeat', (lsn: string, _time: number, shouldRespond: boolean) =>
      this.#keepalive(lsn, shouldRespond),
    );
    service.on('error', (error: Error) => this.#fail(error));
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.#o.publication] });
    // Resolves when the stream ends; a failure is kept and surfaces in `read`.
    service.subscribe(plugin, this.#o.slot, '0/00000000').catch((error: unknown) => this.#fail(error));
    this.#heartbeat = setInterval(() => {
      void service.acknowledge(numberToLsn(this.#confirmed), true).catch(() => undefined);
    }, this.#o.heartbeatIntervalMs);
    this.#heartbeat.unref();
  }

  /** Checks that the slot can be read and returns its confirmed position. */
  async #checkSlot(admin: pg.Client): Promise<number> {
    const r = await admin.query<{
      plugin: string;
      active: boolean;
      active_pid: number | null;
      wal_status: string | null;
      confirmed_flush_lsn: string | null;
      current: string;
    }>(
      `SELECT plugin, active, active_pid, to_jsonb(s) ->> 'wal_status' AS wal_status,
              confirmed_flush_lsn::text, pg_current_wal_lsn()::text AS current
       FROM pg_replication_slots s WHERE slot_name = $1`,
      [this.#o.slot],
    );
    const slot = r.rows[0];
    if (slot === undefined) {
      throw new SluiceError(
        'SLUICE_CDC_SLOT_MISSING',
        `replication slot ${this.#o.slot} does not exist: it was dropped, or never created. Whatever committed after this source's last acknowledged change is in no slot any more and may never have been read. Create the slot again with createChangeCapture (it starts at the present), then backfill the captured tables so consumers catch up on what was missed`,
      );
    }
    if (slot.plugin !== 'pgoutput') {
      throw new SluiceError(
        'SLUICE_CDC_SLOT_PLUGIN',
        `replication slot ${this.#o.slot} uses the ${slot.plugin} plugin; this source reads pgoutput slots made by createChangeCapture`,
      );
    }
    if (slot.wal_status === 'lost') {
      const from = slot.confirmed_flush_lsn ?? 'its last position';
      throw new SluiceError(
        'SLUICE_CDC_SLOT_INVALIDATED',
        `replication slot ${this.#o.slot} was invalidated: the server removed WAL it still needed (max_slot_wal_keep_size). Changes committed between ${from} and ${slot.current} may be lost. Drop it, create it again with createChangeCapture, and backfill the captured tables`,
      );
    }
    if (slot.active) {
      throw new SluiceError(
        'SLUICE_SOURCE_BUSY',
        `replication slot ${this.#o.slot} is being read by another process (pid ${slot.active_pid}); this source waits until it is free`,
      );
    }
    return slot.confirmed_flush_lsn === null ? 1 : lsnToNumber(slot.confirmed_flush_lsn);
  }

  /** One pgoutput message. */
  #receive(message: Pgoutput.Message): void {
    switch (message.tag) {
      case 'begin': {
        const commitLsn = message.commitLsn ?? '0/0';
        const transaction: Transaction = {
          sequence: lsnToNumber(commitLsn),
          commitLsn,
          xid: String(message.xid),
          commitTime: Number(BigInt(message.commitTime as bigint) / 1000n),
          changes: 0,
          committed: false,
        };
        this.#receiving = transaction;
        this.#transactions.set(transaction.sequence, transaction);
        return;
      }
      case 'commit': {
        const transaction = this.#receiving;
        this.#receiving = undefined;
        if (transaction === undefined) return;
        transaction.committed = true;
        if (transaction.changes === 0) this.#transactions.delete(transaction.sequence);
        return;
      }
      case 'insert':
      case 'update':
      case 'delete':
        this.#change(message);
        return;
      case 'truncate':
        // One change per table: every row went at once, with no row images (a consumer must not miss it).
        for (const relation of message.relations) this.#change({ tag: 'truncate', relation });
        return;
      default:
        // relation and type messages describe what follows.
        return;
    }
  }

  #change(
    message:
      | Pgoutput.MessageInsert
      | Pgoutput.MessageUpdate
      | Pgoutput.MessageDelete
      | { tag: 'truncate'; relation: Pgoutput.MessageRelation },
  ) {
    const transaction = this.#receiving;
    if (transaction === undefined) return;
    const index = transaction.changes++;
    // Plain objects (the parser's rows have no prototype), so they compare, spread and serialize as usual.
    const old =
      message.tag === 'insert' || message.tag === 'truncate'
        ? undefined
        : (message.old ?? message.key ?? undefined);
    const before = old === undefined ? undefined : { ...old };
    this.#buffer.push({
      operation: message.tag,
      schema: message.relation.schema,
      table: message.relation.name,
      before,
      after: message.tag === 'delete' || message.tag === 'truncate' ? undefined : { ...message.new },
      transactionId: transaction.xid,
      commitTime: transaction.commitTime,
      position: `${transaction.commitLsn}#${index}`,
      sequence: transaction.sequence,
      index,
    });
    if (this.#buffer.full) this.#stream()?.pause();
  }

  /**
   * The replication connection's socket, to pause while the buffer is full: the library's own flow control
   * hands over one message per microtask turn, which a busy relay starved to a few changes per batch, so
   * messages are taken as they are parsed and the socket is paused instead (the server then waits).
   */
  #stream(): { pause(): void; resume(): void } | undefined {
    const internals = this.#service as unknown as {
      _connection?: { stream?: { pause?: unknown; resume?: unknown } };
    };
    const stream = internals?._connection?.stream;
    return typeof stream?.pause === 'function' && typeof stream.resume === 'function'
      ? (stream as { pause(): void; resume(): void })
      : undefined;
  }

  #keepalive(lsn: string, shouldRespond: boolean): void {
    const idle =
      this.#buffer.length === 0 &&
      this.#receiving === undefined &&
      this.#lastAcknowledged === this.#buffer.lastHandedOut;
    // Everything read was delivered: the server has sent all that committed before `lsn`, so confirm it,
    // exactly (the library reports one past what it is given): a server shutting down waits until its sender
    // is confirmed exactly where it stands, so a position off by one would hold a fast shutdown for a whole
    // wal_sender_timeout.
    if (idle) this.#confirm(lsnToNumber(lsn) - 1);
    else if (shouldRespond)
      void this.#service?.acknowledge(numberToLsn(this.#confirmed)).catch(() => undefined);
  }

  #confirm(lsn: number): void {
    if (lsn <= this.#confirmed) return;
    this.#confirmed = lsn;
    void this.#service?.acknowledge(numberToLsn(lsn)).catch(() => undefined);
  }

  #fail(error: unknown): void {
    if (!this.#closed) this.#buffer.fail(error);
  }

  /** The stream broke: start again from the slot's confirmed position on the next read. */
  #restartAfter(): SluiceError {
    const error = this.#buffer.takeFailure();
    this.#receiving = undefined;
    this.#transactions.clear();
    this.#starting = undefined;
    void this.#stop();
    if (error instanceof SluiceError) return error;
    return new SluiceError(
      'SLUICE_CDC_STREAM_LOST',
      `the replication stream of ${this.name} broke (${String((error as Error)?.message ?? error)}); reading again from the last confirmed position`,
      { cause: error }, // the next read checks the slot again: a dropped one is a permanent error there
    );
  }

  async #stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const service = this.#service;
    const admin = this.#admin;
    this.#service = undefined;
    this.#admin = undefined;
    await service?.destroy().catch(() => undefined);
    await admin?.end().catch(() => undefined);
  }
}

function unavailable(name: string, cause: unknown): SluiceError {
  return new SluiceError(
    'SLUICE_DATABASE_UNAVAILABLE',
    `${name}: cannot reach the database (${String((cause as Error)?.message ?? cause)}); retrying`,
    { cause },
  );
}

/** Opens a change data capture source on a PostgreSQL slot (see {@link PostgresChangeSource}). */
export function createPostgresChangeSource(options: PostgresChangeSourceOptions): PostgresChangeSource {
  return new PostgresChangeSource(options);
}
