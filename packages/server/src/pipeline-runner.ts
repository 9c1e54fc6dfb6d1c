import type { ConsumerLag } from './consumer-lag.js';

/** What a running pipeline reports: whether it is ready, why not, and its own figures. */
export interface PipelineReport {
  /** True while the pipeline does its work: connected, holding its leases or standing by, reading its source. */
  readonly ready: boolean;
  /** Why it is not ready (the transport away, the group not joined, ...), when it is not. */
  readonly reason?: string;
  /** Figures for `/api/status` (relay or consumer stats). */
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * One attempt at running a pipeline, opened by the supervisor and replaced by a new one when it fails.
 *
 * Implementers own the connections they opened for this attempt (store, transport, change source) and close
 * them in `stop()`, also after a failure. They do not restart themselves (the supervisor does, with backoff)
 * and do not report to metrics beyond what `report()` returns and the hooks they were given.
 */
export interface PipelineRunner {
  /** Resolves when the pipeline ended after `stop()`; rejects when it died (the supervisor restarts it). */
  readonly done: Promise<void>;
  /** Finishes the batch in flight, releases leases and closes what it opened. Idempotent. */
  stop(): Promise<void>;
  report(): Promise<PipelineReport>;
  /** Stops the work (releasing leases, leaving the group) but keeps the connections, so `report()` still answers. */
  pause(): Promise<void>;
  /** Starts the work again after `pause()`. */
  resume(): Promise<void>;
  /**
   * Consumers only: the group's lag in its handlers' topics, read from the transport now (also while paused,
   * on the connection `pause()` keeps). Rejects when it cannot be read; the caller decides what to show. Never
   * called on the event path: only when `/metrics` or `/api/status` is read.
   */
  lag?(): Promise<ConsumerLag>;
}
