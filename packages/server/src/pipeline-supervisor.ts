import { errorCode, errorMessage, type Logger, type PipelineConfig } from '@sluice/core';
import { backoffDelay } from '@sluice/core/adapter';
import type { ConsumerLag } from './consumer-lag.js';
import type { PipelineReport, PipelineRunner } from './pipeline-runner.js';
import type { ServiceMetrics } from './service-metrics.js';

/** A pipeline's state as the service reports it. */
export type PipelineState = 'starting' | 'running' | 'paused' | 'failed' | 'stopping' | 'stopped';

/** What `/api/status` and the metrics show of one pipeline. */
export interface PipelineStatus {
  readonly name: string;
  readonly kind: PipelineConfig['kind'];
  readonly state: PipelineState;
  readonly ready: boolean;
  readonly reason?: string;
  readonly since: string;
  readonly restarts: number;
  readonly lastError: { readonly code: string; readonly message: string; readonly at: string } | null;
  /** Who paused it and when, while paused. */
  readonly pausedBy?: { readonly by: string; readonly at: string };
  readonly details: Readonly<Record<string, unknown>>;
  /**
   * Consumers, when asked for and readable: the group's lag per topic and partition (absent while starting
   * or failed, or when the transport did not answer; that is logged at debug).
   */
  readonly lag?: ConsumerLag;
}

/** A run this long without failing resets the restart backoff. */
const HEALTHY_RUN_MS = 60_000;
/** How long a status waits for the transport to answer a lag read before it leaves the lag out. */
const LAG_TIMEOUT_MS = 2000;

/**
 * Runs one pipeline and keeps it running: opens it, and when opening fails or the pipeline dies (its database or
 * broker away for good, a mapping that throws, a lost slot), logs it, closes what it had opened and opens it
 * again after a backoff (from `restartDelayMs`, doubling to 30 s). Other pipelines are not affected: each
 * supervisor has its own connections.
 */
export class PipelineSupervisor {
  readonly name: string;
  readonly kind: PipelineConfig['kind'];
  readonly #open: () => Promise<PipelineRunner>;
  readonly #logger: Logger;
  readonly #metrics: ServiceMetrics;
  readonly #restartDelayMs: number;
  readonly #abort = new AbortController();
  #state: PipelineState = 'starting';
  #since = Date.now();
  #runner: PipelineRunner | undefined;
  #restarts = 0;
  #lastError: PipelineStatus['lastError'] = null;
  #loop: Promise<void> | undefined;
  #pausedBy: { by: string; at: string } | undefined;

  constructor(options: {
    name: string;
    kind: PipelineConfig['kind'];
    open: () => Promise<PipelineRunner>;
    logger: Logger;
    metrics: ServiceMetrics;
    restartDelayMs: number;
  }) {
    this.name = options.name;
    this.kind = options.kind;
    this.#open = options.open;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#restartDelayMs = options.restartDelayMs;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  #set(state: PipelineState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#since = Date.now();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      const startedAt = Date.now();
      try {
        this.#runner = await this.#open();
        if (signal.aborted) break;
        this.#set('running');
        this.#logger.info('pipeline started', { restarts: this.#restarts });
        await this.#runner.done;
        if (signal.aborted) break;
        throw new Error('the pipeline ended on its own');
      } catch (error) {
        if (signal.aborted) break;
        this.#lastError = {
          code: errorCode(error),
          message: errorMessage(error),
          at: new Date().toISOString(),
        };
        await this.#runner?.stop().catch(() => undefined);
        this.#runner = undefined;
        this.#set('failed');
        if (Date.now() - startedAt >= HEALTHY_RUN_MS) failures = 0;
        const delayMs = backoffDelay(
          { initialMs: this.#restartDelayMs, maxMs: 30_000, multiplier: 2 },
          ++failures,
        );
        this.#logger.error('pipeline failed; restarting', {
          code: this.#lastError.code,
          error: this.#lastError.message,
          attempt: failures,
          delayMs,
        });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        if (signal.aborted) break;
        this.#restarts++;
        this.#metrics.restarted(this.name);
        this.#set('starting');
      }
    }
  }

  /**
   * Pauses a running pipeline on an operator's request (`by` says who): its relay or consumer stops (leases
   * released, group left) but its connections stay, so its figures are still reported. Logged with who and when.
   * Returns false when it is not running.
   */
  async pause(by: string): Promise<boolean> {
    if (this.#state !== 'running' || this.#runner === undefined) return false;
    await this.#runner.pause();
    this.#pausedBy = { by, at: new Date().toISOString() };
    this.#set('paused');
    this.#logger.info('pipeline paused', { by });
    return true;
  }

  /** Resumes a paused pipeline (`by` says who); logged. Returns false when it is not paused. */
  async resume(by: string): Promise<boolean> {
    if (this.#state !== 'paused' || this.#runner === undefined) return false;
    await this.#runner.resume();
    this.#pausedBy = undefined;
    this.#set('running');
    this.#logger.info('pipeline resumed', { by });
    return true;
  }

  /** Stops the pipeline: finishes what is in flight, releases its leases, closes its connections. */
  async stop(): Promise<void> {
    this.#set('stopping');
    this.#abort.abort();
    await this.#runner?.stop();
    await this.#loop;
    this.#runner = undefined;
    this.#set('stopped');
    this.#logger.info('pipeline stopped');
  }

  /** The pipeline's status; with `lag`, a consumer's lag too (read from its transport now). */
  async status(options: { readonly lag?: boolean } = {}): Promise<PipelineStatus> {
    let report: PipelineReport | undefined;
    let lag: ConsumerLag | undefined;
    const runner = this.#runner;
    if ((this.#state === 'running' || this.#state === 'paused') && runner !== undefined) {
      [report, lag] = await Promise.all([
        runner.report().catch((error: unknown) => ({
          ready: false,
          reason: `its status cannot be read: ${errorMessage(error)}`,
          details: {},
        })),
        options.lag === true && runner.lag !== undefined ? this.#lag(runner.lag.bind(runner)) : undefined,
      ]);
    }
    const reason =
      report?.reason ??
      (this.#state === 'failed'
        ? `failed: ${this.#lastError?.code} ${this.#lastError?.message}`
        : this.#state === 'running'
          ? undefined
          : this.#state);
    return {
      name: this.name,
      kind: this.kind,
      state: this.#state,
      ready: report?.ready === true,
      ...(reason === undefined ? {} : { reason }),
      since: new Date(this.#since).toISOString(),
      restarts: this.#restarts,
      lastError: this.#lastError,
      ...(this.#pausedBy === undefined ? {} : { pausedBy: this.#pausedBy }),
      details: report?.details ?? {},
      ...(lag === undefined ? {} : { lag }),
    };
  }

  /** Reads the lag, or `undefined` (logged at debug) when it fails or takes longer than LAG_TIMEOUT_MS. */
  async #lag(read: () => Promise<ConsumerLag>): Promise<ConsumerLag | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the transport did not answer within ${LAG_TIMEOUT_MS} ms`)),
        LAG_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([read(), timeout]);
    } catch (error) {
      this.#logger.debug('consumer lag cannot be read; left out of metrics and status', {
        code: errorCode(error),
        error: errorMessage(error),
      });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
