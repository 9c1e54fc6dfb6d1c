import { waitForWake } from '@sluice/core/adapter';
import { brokerError } from './redis-errors.js';
import type { RedisClient } from './redis-topics.js';

/** How long a wait pauses after its connection failed, before the caller tries again. */
const FAILED_WAIT_PAUSE_MS = 100;

/**
 * The waiting side of one subscription: a dedicated connection (named, for CLIENT LIST) that runs
 * `XREAD BLOCK` on the streams a poll waits for, so the poll wakes as soon as Redis appends to one of them.
 * An abort ends the blocked command at once with `CLIENT UNBLOCK` (sent on the main connection), so the
 * connection is free for the next wait; `close` wakes every wait and drops the connection.
 */
export class RedisWaiter {
  readonly #client: RedisClient;
  readonly #name: string;
  readonly #waiters = new Set<() => void>();
  #blocking: RedisClient | undefined;
  #blockingId: string | undefined;
  #blocked = false;
  #closed = false;

  /** `client` is the main connection (duplicated for waiting); `name` names the waiting connection. */
  constructor(client: RedisClient, name: string) {
    this.#client = client;
    this.#name = name;
  }

  /** The name (CLIENT SETNAME) of the waiting connection. */
  get name(): string {
    return this.#name;
  }

  /**
   * Waits up to `blockMs` for an entry after `ids[i]` in `streams[i]`, an abort or `close`. Never throws: a
   * failed connection ends the wait after a short pause (the caller's next command reports the failure).
   */
  async block(
    streams: readonly string[],
    ids: readonly string[],
    blockMs: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (streams.length === 0) return this.sleep(blockMs, signal);
    let blocking: RedisClient | undefined;
    try {
      blocking = await this.#connection();
    } catch {
      return this.sleep(Math.min(FAILED_WAIT_PAUSE_MS, blockMs), signal);
    }
    if (blocking === undefined || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(finish);
        resolve();
      };
      const onAbort = () => {
        this.#unblock();
        finish();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(finish);
      this.#blocked = true;
      blocking
        .sendCommand(['XREAD', 'COUNT', '1', 'BLOCK', String(blockMs), 'STREAMS', ...streams, ...ids])
        .then(
          () => {
            this.#blocked = false;
            finish();
          },
          () => {
            this.#blocked = false;
            setTimeout(finish, Math.min(FAILED_WAIT_PAUSE_MS, blockMs)).unref();
          },
        );
    });
  }

  /** Waits `ms`, or until an abort or `close`. */
  async sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#closed) return;
    await waitForWake(this.#waiters, ms, signal);
  }

  /** Wakes every wait and drops the waiting connection. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const wake of [...this.#waiters]) wake();
    this.#blocking?.destroy();
    this.#blocking = undefined;
  }

  /** The waiting connection, opened on first use; its CLIENT ID is read again on every (re)connect. */
  async #connection(): Promise<RedisClient | undefined> {
    if (this.#closed) return undefined;
    if (this.#blocking !== undefined) return this.#blocking;
    const blocking = this.#client.duplicate({ name: this.#name });
    blocking.on('error', () => undefined); // reconnects by itself; waits fail and are tried again
    blocking.on('ready', () => {
      blocking.sendCommand(['CLIENT', 'ID']).then(
        (id) => {
          this.#blockingId = String(id);
        },
        () => undefined,
      );
    });
    this.#blocking = blocking;
    try {
      await blocking.connect();
    } catch (cause) {
      this.#blocking = undefined;
      blocking.destroy();
      throw brokerError('opening the waiting connection', cause);
    }
    if (this.#closed) {
      blocking.destroy();
      return undefined;
    }
    return blocking;
  }

  /** Ends a pending XREAD BLOCK early. */
  #unblock(): void {
    if (!this.#blocked || this.#blockingId === undefined) return;
    this.#client.sendCommand(['CLIENT', 'UNBLOCK', this.#blockingId]).catch(() => undefined);
  }
}
