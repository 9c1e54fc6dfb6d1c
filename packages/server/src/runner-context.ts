import type { Logger, SluiceConfig } from '@sluice/core';
import type { ServiceMetrics } from './service-metrics.js';

/** What a pipeline runner is opened with. */
export interface RunnerContext {
  readonly name: string;
  readonly config: SluiceConfig;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
}

/** Closes each of `closers` (all of them, even if one fails). */
export async function closeAll(closers: readonly (() => Promise<unknown>)[]): Promise<void> {
  for (const close of closers) await close().catch(() => undefined);
}
