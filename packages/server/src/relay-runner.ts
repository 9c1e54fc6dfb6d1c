import {
  type BackfillStats,
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
import { restartableWork } from './restartable-work.js';
import { closeAll, type RunnerContext } from './runner-context.js';

/**
 * Opens a relay pipeline: the outbox of the named store (`relay`) or a change outbox over a change source
 * (`changes`), its own transport connection, and a relay between them. `pause()` stops the relay (releasing its
 * lease) but keeps the outbox open, so the pending count is still reported; `resume()` starts a new relay.
 * Everything it opened is closed by `stop()`.
 */
export async function openRelayRunner(
  ctx: RunnerContext,
  pipeline: RelayPipelineConfig | ChangesPipelineConfig,
): Promise<PipelineRunner> {
  const closers: (() => Promise<unknown>)[] = [];
  try {
    let outbox: OutboxStore;
    let sourceStats: (() => Promise<{ lagBytes: number | null; lagMs: number | null }>) | undefined;
    /** A backfilling source's progress, for `/api/status` and the backfill metrics (totals since `since`). */
    let backfill: (() => { backfill: BackfillStats & { since: string } }) | undefined;
    if (pipeline.kind === 'relay') {
      const store = await createStore(ctx.config.stores![pipeline.store]!);
      closers.push(() => store.close());
      outbox = await store.createOutbox({ source: `urn:sluice:pipeline:${ctx.name}`, relay: true });
    } else {
      const options = await pipeline.changes(ctx.config.vars ?? {});
      const changes = createChangeOutbox({ logger: ctx.logger, ...options });
      const source = options.source as { backfillStats?: () => BackfillStats };
      if (typeof source.backfillStats === 'function') {
        const since = new Date().toISOString();
        backfill = () => ({ backfill: { since, ...source.backfillStats!() } });
      }
      closers.push(() => changes.close());
      outbox = changes;
      sourceStats = () => changes.sourceStats();
    }
    const transport: Transport = await createTransport(ctx.config.transports![pipeline.transport]!);
    closers.unshift(() => transport.close());
    const leaseTtlMs = pipeline.relay?.leaseTtlMs ?? 5000;
    const lagWarnMs = pipeline.kind === 'changes' ? (pipeline.lagWarnMs ?? 60_000) : Number.POSITIVE_INFINITY;
    let lagging = false;
    /** The change source's lag; logs once when it goes over `lagWarnMs` and once when it is back under. */
    const sourceLag = async () => {
      if (sourceStats === undefined) return {};
      const source = await sourceStats().catch(() => ({ lagBytes: null, lagMs: null }));
      const over = source.lagMs !== null && source.lagMs > lagWarnMs;
      if (over !== lagging) {
        lagging = over;
        if (over)
          ctx.logger.warn('change data capture lag over threshold', {
            lagMs: source.lagMs,
            lagBytes: source.lagBytes,
            thresholdMs: lagWarnMs,
          });
        else
          ctx.logger.info('change data capture lag back under threshold', {
            lagMs: source.lagMs,
            lagBytes: source.lagBytes,
          });
      }
      return { source };
    };
    const work = restartableWork(() =>
      createRelay({
        ...pipeline.relay,
        outbox,
        transport,
        topics: pipeline.topics,
        logger: ctx.logger,
        onPublished: (records, ms) => ctx.metrics.published(ctx.name, records, ms),
      }).start(),
    );
    return {
      done: work.done,
      stop: () => work.stop(() => closeAll(closers)),
      pause: () => work.pause(),
      resume: () => work.resume(),
      async report(): Promise<PipelineReport> {
        const relay = work.current();
        if (relay === undefined) {
          return {
            ready: false,
            reason: 'paused',
            details: { outbox: await outbox.stats(), ...(await sourceLag()), ...backfill?.() },
          };
        }
        const stats = await relay.stats();
        // Not ready until it holds its partitions: after a SIGKILL the dead process's lease must run out first.
        // An instance that has stood by for two lease lifetimes without a partition is a standby behind a live
        // holder, and ready as such.
        let reason: string | undefined;
        if (stats.failingSince !== null) {
          reason =
            `publishing fails since ${new Date(stats.failingSince).toISOString()}: ${stats.lastError?.code ?? ''} ${stats.lastError?.message ?? ''}`.trim();
        } else if (!stats.leader && Date.now() - work.startedAt() < 2 * leaseTtlMs) {
          const owners = [...new Set(stats.outbox.partitions.map((p) => p.owner).filter((o) => o !== null))];
          reason = `waiting for its lease partitions (held by ${owners.join(', ') || 'nobody yet'}; a previous holder's lease runs out within ${leaseTtlMs} ms)`;
        }
        return {
          ready: reason === undefined,
          ...(reason === undefined ? {} : { reason }),
          details: { ...stats, ...(await sourceLag()), ...backfill?.() },
        };
      },
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}
