import {
  type ChangesPipelineConfig,
  createChangeOutbox,
  createRelay,
  createStore,
  createTransport,
  type OutboxStore,
  type RelayPipelineConfig,
  type Transport,
} from '@sluice/core';
import type { PipelineReport, PipelineRunner } from './pipeline-runner.js';
import { closeAll, type RunnerContext } from './runner-context.js';

/**
 * Opens a relay pipeline: the outbox of the named store (`relay`) or a change outbox over a change source
 * (`changes`), its own transport connection, and a relay between them. Everything it opened is closed by `stop()`.
 */
export async function openRelayRunner(
  ctx: RunnerContext,
  pipeline: RelayPipelineConfig | ChangesPipelineConfig,
): Promise<PipelineRunner> {
  const closers: (() => Promise<unknown>)[] = [];
  try {
    let outbox: OutboxStore;
    if (pipeline.kind === 'relay') {
      const store = await createStore(ctx.config.stores![pipeline.store]!);
      closers.push(() => store.close());
      outbox = await store.createOutbox({ source: `urn:sluice:pipeline:${ctx.name}`, relay: true });
    } else {
      outbox = createChangeOutbox(await pipeline.changes());
      closers.push(() => outbox.close());
    }
    const transport: Transport = await createTransport(ctx.config.transports![pipeline.transport]!);
    closers.unshift(() => transport.close());
    const relay = createRelay({
      ...pipeline.relay,
      outbox,
      transport,
      topics: pipeline.topics,
      logger: ctx.logger,
      onPublished: (records, ms) => ctx.metrics.published(ctx.name, records, ms),
    }).start();
    const startedAt = Date.now();
    const leaseTtlMs = pipeline.relay?.leaseTtlMs ?? 5000;
    let stopped: Promise<void> | undefined;
    const stop = () => {
      stopped ??= (async () => {
        await relay.stop().catch(() => undefined);
        await closeAll(closers);
      })();
      return stopped;
    };
    return {
      done: relay.done,
      stop,
      async report(): Promise<PipelineReport> {
        const stats = await relay.stats();
        const failing = stats.failingSince !== null;
        // Not ready until it holds its partitions: after a SIGKILL the dead process's lease must run out first.
        // An instance that has stood by for two lease lifetimes without a partition is a standby behind a live
        // holder, and ready as such.
        const waiting = !stats.leader && Date.now() - startedAt < 2 * leaseTtlMs;
        const reason = failing
          ? `publishing fails since ${new Date(stats.failingSince!).toISOString()}: ${stats.lastError?.code ?? ''} ${stats.lastError?.message ?? ''}`.trim()
          : waiting
            ? `waiting for its lease partitions (a previous holder's lease runs out within ${leaseTtlMs} ms)`
            : undefined;
        return {
          ready: reason === undefined,
          ...(reason === undefined ? {} : { reason }),
          details: { ...stats },
        };
      },
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}
