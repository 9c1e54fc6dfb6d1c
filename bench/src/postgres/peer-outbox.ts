import { sleep } from '@sluice/core/adapter';
import type pg from 'pg';
import {
  createReplicationMutexConcurrencyController,
  createReplicationSegmentMutexConcurrencyController,
  createReplicationSemaphoreConcurrencyController,
  type DatabaseReplicationSetupConfig,
  DatabaseSetup,
  type GeneralMessageHandler,
  initializeReplicationMessageListener,
  type MessageStorage,
  type ReplicationConcurrencyController,
  type ReplicationListenerConfig,
  type TransactionalMessage,
} from 'pg-transactional-outbox';
import { dropSchema } from './bench-schema.js';
import { PeerErrorLog } from './peer-error-log.js';
import { peerStorage } from './peer-storage.js';
import { waitUntil } from './wait-until.js';

/**
 * How pg-transactional-outbox's replication listener orders handler calls: `mutex` (its default: one message
 * at a time, in commit order), `segment-mutex` (one at a time per `segment`, which the benchmark sets to the
 * event key: per-key order, like Sluice's), `semaphore` (up to 10 at once, no order).
 */
export type PeerConcurrency = 'mutex' | 'segment-mutex' | 'semaphore';

/**
 * pg-transactional-outbox (the peer) set up the way its README and `DatabaseSetup` scripts say, in a fresh
 * schema: its outbox table, a publication for the logical-replication listener and, on demand, a replication
 * slot. `close()` stops the listener and drops the slot, the publication and the schema. The benchmarks run the
 * listener in a child process (peer-listener-process.ts), so that nothing it does to its process (event loop,
 * memory, an unhandled rejection) touches the measurements that follow.
 */
export class PeerOutbox {
  readonly schema: string;
  readonly table = 'outbox';
  readonly publication: string;
  readonly slot: string;
  readonly #pool: pg.Pool;
  readonly #url: string;
  readonly #config: ReplicationListenerConfig;
  readonly #store: MessageStorage;
  /** What went wrong inside the library while its listener ran (and until `close()`). */
  readonly errors = new PeerErrorLog();
  #slotCreated = false;
  #shutdown: (() => Promise<void>) | undefined;

  /** The listener's configuration (also what a producer process needs to store messages). */
  get config(): ReplicationListenerConfig {
    return this.#config;
  }

  private constructor(pool: pg.Pool, url: string, schema: string) {
    this.#pool = pool;
    this.#url = url;
    this.schema = schema;
    this.publication = `${schema}_pub`;
    this.slot = `${schema}_slot`;
    this.#config = {
      outboxOrInbox: 'outbox',
      // The handler pool uses the listener's settings too; the name lets close() end what shutdown left open.
      dbListenerConfig: { connectionString: url, application_name: schema },
      settings: {
        dbSchema: schema,
        dbTable: this.table,
        dbPublication: this.publication,
        dbReplicationSlot: this.slot,
        // As in the README's outbox example: no attempt counting for the outbox.
        enableMaxAttemptsProtection: false,
        enablePoisonousMessageProtection: false,
      },
    };
    this.#store = peerStorage(this.#config);
  }

  /** Creates the outbox table (as `DatabaseSetup.dropAndCreateTable`) and the publication in `schema`. */
  static async create(pool: pg.Pool, url: string, schema: string): Promise<PeerOutbox> {
    const peer = new PeerOutbox(pool, url, schema);
    const setup = peer.#setupConfig();
    await pool.query(DatabaseSetup.dropAndCreateTable(setup));
    // setupReplicationCore also runs `ALTER ROLE <listener> WITH REPLICATION`: the bench role has it already,
    // and a benchmark does not alter a shared role.
    await pool.query(
      DatabaseSetup.setupReplicationCore(setup)
        .split('\n')
        .filter((line) => !line.startsWith('ALTER ROLE'))
        .join('\n'),
    );
    return peer;
  }

  /** The peer set up by {@link create} in another process (a listener process), to listen or store only. */
  static attach(pool: pg.Pool, url: string, schema: string): PeerOutbox {
    return new PeerOutbox(pool, url, schema);
  }

  /**
   * Creates the logical replication slot (its own transaction, as the setup script says). Changes committed
   * after this are what the listener will receive.
   */
  async createSlot(): Promise<void> {
    await this.#pool.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [this.slot]);
    this.#slotCreated = true;
  }

  /** Stores `message` in the caller's transaction on `client`: the library's documented producer call. */
  store(client: pg.PoolClient, message: TransactionalMessage): Promise<void> {
    return this.#store(message, client);
  }

  /** Starts the replication listener (`initializeReplicationMessageListener`) with `handler`. */
  listen(handler: GeneralMessageHandler, concurrency: PeerConcurrency): void {
    if (this.#shutdown) throw new Error('the peer listener is already running');
    this.errors.guard();
    const [shutdown] = initializeReplicationMessageListener(this.#config, handler, this.errors.logger, {
      concurrencyStrategy: controller(concurrency),
    });
    this.#shutdown = shutdown;
  }

  /** Resolves once the listener's replication connection streams from the slot (false after `timeoutMs`). */
  waitStreaming(timeoutMs = 10_000): Promise<boolean> {
    return waitUntil(
      async () =>
        (
          await this.#pool.query<{ active: boolean }>(
            'SELECT active FROM pg_replication_slots WHERE slot_name = $1',
            [this.slot],
          )
        ).rows[0]?.active === true,
      timeoutMs,
      50,
    );
  }

  /**
   * Stops the listener (if any); the slot keeps its position. Gives up waiting after `timeoutMs` (its shutdown
   * waits for handler transactions in flight); `close()` then ends its connections.
   */
  async stopListener(timeoutMs = 10_000): Promise<void> {
    const shutdown = this.#shutdown;
    this.#shutdown = undefined;
    if (!shutdown) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      shutdown().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Stops the listener, ends any of its connections still open, and drops the slot (terminating its walsender
   * if still active), the publication and the schema.
   */
  async close(): Promise<void> {
    await this.stopListener();
    await this.#pool
      .query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
        [this.schema],
      )
      .catch(() => undefined);
    if (this.#slotCreated) {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.#pool.query(
            'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
            [this.slot],
          );
          break;
        } catch (error) {
          if (attempt >= 50) {
            console.error(`  warning: could not drop replication slot ${this.slot}: ${String(error)}`);
            break;
          }
          if (attempt >= 10) {
            await this.#pool
              .query(
                'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active',
                [this.slot],
              )
              .catch(() => undefined);
          }
          await sleep(100);
        }
      }
    }
    await this.#pool.query(`DROP PUBLICATION IF EXISTS "${this.publication}"`).catch(() => undefined);
    await dropSchema(this.#pool, this.schema);
    this.errors.stopGuard();
  }

  #setupConfig(): DatabaseReplicationSetupConfig {
    return {
      outboxOrInbox: 'outbox',
      database: new URL(this.#url).pathname.slice(1),
      schema: this.schema,
      table: this.table,
      listenerRole: decodeURIComponent(new URL(this.#url).username),
      publication: this.publication,
      replicationSlot: this.slot,
    };
  }
}

function controller(concurrency: PeerConcurrency): ReplicationConcurrencyController {
  switch (concurrency) {
    case 'mutex':
      return createReplicationMutexConcurrencyController();
    case 'segment-mutex':
      return createReplicationSegmentMutexConcurrencyController();
    case 'semaphore':
      return createReplicationSemaphoreConcurrencyController(10);
  }
}
