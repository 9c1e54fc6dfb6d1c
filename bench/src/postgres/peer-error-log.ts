import { getDisabledLogger, type TransactionalLogger } from 'pg-transactional-outbox';

/** Counts of {@link PeerErrorLog} at one moment. */
export interface PeerErrors {
  readonly logged: number;
  /** Warnings it logged (a message that could not be processed now, a client that did not stop). */
  readonly warned: number;
  readonly unhandled: number;
  readonly samples: readonly string[];
}

/**
 * Collects what goes wrong inside pg-transactional-outbox during a run, so the benchmark can report it instead
 * of dying of it: the errors its listener logs (processing timeouts, listener restarts), and rejections and
 * exceptions it leaves unhandled (under a backlog, a handler that hits its 15 s processing timeout rolls back
 * from an event listener whose rejection nobody catches, which would end this process).
 */
export class PeerErrorLog {
  readonly logger: TransactionalLogger;
  #logged = 0;
  #warned = 0;
  #unhandled = 0;
  readonly #samples = new Set<string>();
  readonly #onUnhandled = (reason: unknown) => {
    this.#unhandled++;
    this.#sample(`unhandled: ${reason instanceof Error ? reason.message : String(reason)}`);
  };

  constructor() {
    const record = (...args: unknown[]) => {
      this.#logged++;
      const text = args.find((a): a is string => typeof a === 'string');
      const error = args.find((a): a is Error => a instanceof Error);
      this.#sample(`logged: ${text ?? ''}${error ? ` (${error.message})` : ''}`);
    };
    const warn = (...args: unknown[]) => {
      this.#warned++;
      const text = args.find((a): a is string => typeof a === 'string');
      this.#sample(`warning: ${text ?? ''}`);
    };
    this.logger = {
      ...getDisabledLogger(),
      error: record as TransactionalLogger['error'],
      fatal: record as TransactionalLogger['fatal'],
      warn: warn as TransactionalLogger['warn'],
    };
  }

  /** Starts catching unhandled rejections and uncaught exceptions of this process (until `stopGuard`). */
  guard(): void {
    process.on('unhandledRejection', this.#onUnhandled);
    process.on('uncaughtException', this.#onUnhandled);
  }

  stopGuard(): void {
    process.off('unhandledRejection', this.#onUnhandled);
    process.off('uncaughtException', this.#onUnhandled);
  }

  /** Errors the listener logged. */
  get logged(): number {
    return this.#logged;
  }

  /** Rejections and exceptions left unhandled. */
  get unhandled(): number {
    return this.#unhandled;
  }

  /** The counts and samples now (the measurement's, before teardown adds its own connection errors). */
  snapshot(): PeerErrors {
    return { logged: this.#logged, warned: this.#warned, unhandled: this.#unhandled, samples: this.samples };
  }

  /** Up to five distinct messages, for the report. */
  get samples(): readonly string[] {
    return [...this.#samples];
  }

  #sample(text: string): void {
    if (this.#samples.size < 5) this.#samples.add(text.slice(0, 200));
  }
}
