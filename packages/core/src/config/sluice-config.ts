import type { StoreConfig } from '../store/store-config.js';
import type { TransportConfig } from '../transport/transport-config.js';
import type { PipelineConfig } from './pipeline-config.js';

/** The levels of the service's log. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * What `sluice run --config sluice.config.ts` runs: named stores (databases holding Sluice's tables), named
 * transports (buses) and named pipelines that use them, and the service's own settings. URLs and secrets come
 * from the environment through `env('NAME')`. Declared with {@link defineConfig}.
 */
export interface SluiceConfig {
  /** The service's HTTP server (`/livez`, `/readyz`, `/metrics`, `/api/status`). Default 127.0.0.1:9400. */
  readonly http?: { readonly port?: number; readonly host?: string };
  /** Log level; `SLUICE_LOG_LEVEL` overrides it. Default `info`. */
  readonly log?: { readonly level?: LogLevel };
  /** How long SIGTERM waits for the pipelines to finish what is in flight before exiting anyway. Default 10 s. */
  readonly shutdownTimeoutMs?: number;
  /** How long a failed pipeline waits before its first restart (doubling up to 30 s). Default 1 s. */
  readonly restartDelayMs?: number;
  /**
   * Named values (usually `env('NAME')`) resolved at start and passed to the functions a pipeline declares (a
   * `changes` pipeline's factory), so they too take their URLs and secrets from the environment.
   */
  readonly vars?: Readonly<Record<string, string>>;
  readonly stores?: Readonly<Record<string, StoreConfig | string>>;
  readonly transports?: Readonly<Record<string, TransportConfig | string>>;
  readonly pipelines: Readonly<Record<string, PipelineConfig>>;
}

/** Declares a service's config with its types checked (the identity function). */
export function defineConfig(config: SluiceConfig): SluiceConfig {
  return config;
}
