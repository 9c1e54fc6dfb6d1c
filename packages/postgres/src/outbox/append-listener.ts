import { randomUUID } from 'node:crypto';
import { waitForWake } from '@sluice/core/adapter';
import { quoteIdentifier } from '../identifier.js';
import type { PgPool, PgPoolClient } from '../pg-client.js';

/** Backoff between attempts to re-open the listening connection. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;
/** The first poll after announcing a wait: appends that raced the announcement commit within milliseconds. */
const FIRST_POLL_MS = 1;
/** A wait announcement lasts at least this long, so an idle relay renews it about once a second. */
const MIN_ANNOUNCE_MS = 1000;

/**
 * Wakes relays waiting for appends. A dedicated pooled connection `LISTEN`s on the channel that `append`
 * notifies (PostgreSQL delivers the notification when the appending transaction commits, never on rollback);
 * a notification that arrives while nobody waits makes the next wait return at once, so a commit between a
 * relay's read and its wait is not slept through. While someone waits, a poll every `pollIntervalMs` also
 * looks for transactions that committed outbox rows since its last look (rows inserted without `append`, a
 * notification lost with the connection). If the listening connection fails it is re-opened with backoff, and
 * waiters are woken, since notifications may have been missed meanwhile.
 *
 * `append` sends its notification only while some relay has announced that it waits (`relay_waiter`, see
 * migration 14): a NOTIFY serializes concurrent commits, and a busy relay does not need it. The protocol
 * against lost wake-ups: a wait that announces itself anew returns at once, so the relay reads again after
 * every appender can see the announcement; appends whose statement ran before the announcement but commit
 * after that read are not in the announcement's snapshot, and the poll that follows (after 1 ms, doubling to
 * `pollIntervalMs`) finds them.
 *
 * It owns the listening connection (checked out of the caller's pool on the first wait, destroyed on close),
 * not the pool.
 */
export class AppendListener {
  readonly #pool: PgPool;
  readonly #channel: string;
  readonly #pollSql: string;
  readonly #pollIntervalMs: number;
  readonly #announceSql: string;
  readonly #id = randomUUID();
  /** Until when (this process's clock, with a margin) appenders see this listener's announcement. */
  #announcedUntil = 0;
  #pollDelay: number;
  /** The poll baseline is the last announcement's snapshot, for the wait that follows it. */
  #baselineFromAnnounce = false;
  readonly #waiters = new Set<() => void>();
  #client: PgPoolClient | undefined;
  #connecting: Promise<void> | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectDelay = RECONNECT_MIN_MS;
  #pollTimer: NodeJS.Timeout | undefined;
  #pollSnapshot: string | null = null;
  /** A commit was signalled while nobody waited. */
  #missed = false;
  #closed = false;

  constructor(pool: PgPool, schema: string, channel: string, pollIntervalMs: number) {
    this.#pool = pool;
    this.#channel = channel;
    this.#pollIntervalMs = pollIntervalMs;
    this.#pollDelay = pollIntervalMs;
    this.#announceSql = `WITH announced AS (
  INSERT INTO ${schema}.relay_waiter AS w (id, until)
  VALUES ($1, now() + $2::double precision * interval '1 millisecond')
  ON CONFLICT (id) DO UPDATE SET until = excluded.until
), expired AS (
  DELETE FROM ${schema}.relay_waiter WHERE until < now() - interval '1 hour' AND id <> $1
)
SELECT pg_current_snapshot()::text AS snapshot`;
    this.#pollSql = `SELECT pg_current_snapshot()::text AS snapshot, EXISTS (
  SELECT 1 FROM ${schema}.outbox
  WHERE txid >= $1::xid8 AND NOT pg_visible_in_snapshot(txid, $2::pg_snapshot)
) AS committed`;
  }

  /**
   * Resolves on the next commit of an append (by anyone), after `timeoutMs`, on abort, or on close. The first
   * wait also resolves once the connection listens (a commit may have come before). Never rejects.
   */
  async wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted || timeoutMs <= 0) return;
    if (this.#missed) {
      this.#missed = false;
      return;
    }
    const started = Date.now();
    if (started + timeoutMs > this.#announcedUntil) {
      const fresh = started >= this.#announcedUntil;
      // Newly announced: appenders did not notify until now, so read again before sleeping.
      if (!(await this.#announce(timeoutMs)) || fresh) return;
    }
    const left = timeoutMs - (Date.now() - started);
    if (this.#closed || signal?.aborted || left <= 0) return;
    await this.#block(left, signal);
  }

  /**
   * Tells appenders that this listener waits (for a little longer than `timeoutMs`), and takes the snapshot
   * the next poll compares with. Returns false if the database could not be reached.
   */
  async #announce(timeoutMs: number): Promise<boolean> {
    const duration = Math.max(timeoutMs, MIN_ANNOUNCE_MS) + MIN_ANNOUNCE_MS;
    const at = Date.now();
    try {
      const { rows } = await this.#pool.query<{ snapshot: string }>(this.#announceSql, [this.#id, duration]);
      this.#announcedUntil = at + duration - MIN_ANNOUNCE_MS / 2;
      this.#pollSnapshot = rows[0]!.snapshot;
      this.#pollDelay = FIRST_POLL_MS;
      this.#baselineFromAnnounce = true;
      if (this.#pollTimer !== undefined) {
        clearTimeout(this.#pollTimer);
        this.#pollTimer = undefined;
      }
      return true;
    } catch {
      this.#announcedUntil = 0;
      return false;
    }
  }

  #block(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const waiting = waitForWake(this.#waiters, timeoutMs, signal);
    this.#listen();
    this.#startPolling();
    return waiting;
  }

  /** Wakes every waiter, or the next one if none waits. */
  wake(): void {
    if (this.#waiters.size === 0) {
      this.#missed = true;
      return;
    }
    // The woken relay reads everything committed so far: a running poll's snapshot is now stale.
    this.#pollSnapshot = null;
    this.#pollDelay = this.#pollIntervalMs;
    for (const done of [...this.#waiters]) done();
  }

  /** Wakes everyone and destroys the listening connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    for (const done of [...this.#waiters]) done();
    await this.#connecting?.catch(() => undefined);
    this.#drop(true);
  }

  #listen(): void {
    if (this.#client !== undefined || this.#connecting !== undefined || this.#reconnectTimer !== undefined) {
      return;
    }
    if (this.#closed) return;
    this.#connecting = this.#connect().finally(() => {
      this.#connecting = undefined;
    });
  }

  async #connect(): Promise<void> {
    let client: PgPoolClient | undefined;
    try {
      client = await this.#pool.connect();
      const lost = (error?: Error) => {
        if (this.#client !== client) return;
        this.#drop(error ?? true);
        this.#scheduleReconnect();
      };
      client.on('error', lost);
      client.on('end', () => lost());
      client.on('notification', (message) => {
        if (message.channel === this.#channel) this.wake();
      });
      await client.query(`LISTEN ${quoteIdentifier(this.#channel)}`);
      if (this.#closed) {
        client.release(true);
        return;
      }
      this.#client = client;
      this.#reconnectDelay = RECONNECT_MIN_MS;
      // Commits before LISTEN took effect were not notified: let whoever waits read again.
      this.wake();
    } catch {
      client?.release(true);
      this.#scheduleReconnect();
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== undefined) return;
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(RECONNECT_MAX_MS, delay * 2);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#listen();
    }, delay);
  }

  /** Gives up the listening connection (destroyed: it may be broken, and it is still LISTENing). */
  #drop(reason: boolean | Error): void {
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    try {
      client.release(reason);
    } catch {
      // Already released by the pool after the error.
    }
  }

  #startPolling(): void {
    if (this.#pollTimer !== undefined || this.#closed) return;
    if (!this.#baselineFromAnnounce) {
      // A plain fallback poll: its first look only takes a snapshot to compare later ones with (commits before
      // it were notified: appenders see this listener's announcement).
      this.#pollSnapshot = null;
      this.#pollDelay = this.#pollIntervalMs;
    }
    this.#baselineFromAnnounce = false;
    const tick = async () => {
      if (this.#closed || this.#waiters.size === 0) {
        this.#pollTimer = undefined;
        return;
      }
      try {
        const previous = this.#pollSnapshot;
        const lo = previous === null ? '0' : previous.slice(0, previous.indexOf(':'));
        const { rows } = await this.#pool.query<{ snapshot: string; committed: boolean }>(this.#pollSql, [
          lo,
          previous,
        ]);
        this.#pollSnapshot = rows[0]!.snapshot;
        if (previous !== null && rows[0]!.committed) this.wake();
      } catch {
        // The database is unreachable: the waiters' timeouts still fire, and the relay's read reports it.
      }
      this.#pollTimer = this.#closed ? undefined : setTimeout(tick, this.#nextPollDelay());
    };
    this.#pollTimer = setTimeout(tick, this.#nextPollDelay());
  }

  /** 1 ms after an announcement, doubling up to `pollIntervalMs`. */
  #nextPollDelay(): number {
    const delay = this.#pollDelay;
    this.#pollDelay = Math.min(this.#pollIntervalMs, delay * 2);
    return delay;
  }
}
