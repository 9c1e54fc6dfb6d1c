import { type ConsumerPipelineConfig, createConsumer, createStore, createTransport } from '@sluice/core';
import { handlerTopics, readConsumerLag } from './consumer-lag.js';
import type { PipelineReport, PipelineRunner } from './pipeline-runner.js';
import { restartableWork } from './restartable-work.js';
import { closeAll, type RunnerContext } from './runner-context.js';

/**
 * Opens a consumer pipeline: the inbox of the named store, its own transport connection, and the consumer.
 * `pause()` stops the consumer (it leaves its group, committing what it applied); `resume()` starts a new one.
 */
export async function openConsumerRunner(
  ctx: RunnerContext,
  pipeline: ConsumerPipelineConfig,
): Promise<PipelineRunner> {
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const store = await createStore(ctx.config.stores![pipeline.store]!);
    closers.push(() => store.close());
    const inbox = await store.createInbox();
    const transport = await createTransport(ctx.config.transports![pipeline.transport]!);
    closers.unshift(() => transport.close());
    const onOutcome = ctx.metrics.consumerHook(ctx.name, pipeline.group);
    const topics = handlerTopics(pipeline);
    const work = restartableWork(() =>
      createConsumer({
        ...pipeline.consumer,
        transport,
        group: pipeline.group,
        inbox,
        handlers: pipeline.handlers,
        logger: ctx.logger,
        onOutcome,
      }).start(),
    );
    return {
      done: work.done,
      stop: () => work.stop(() => closeAll(closers)),
      pause: () => work.pause(),
      resume: () => work.resume(),
      lag: () => readConsumerLag(transport, pipeline.group, topics),
      async report(): Promise<PipelineReport> {
        const consumer = work.current();
        if (consumer === undefined)
          return { ready: false, reason: 'paused', details: { group: pipeline.group } };
        const stats = consumer.stats();
        const reason = !stats.joined
          ? `joining group ${pipeline.group}`
          : stats.failingSince !== null
            ? `polling fails since ${new Date(stats.failingSince).toISOString()}: ${stats.lastError?.code ?? ''} ${stats.lastError?.message ?? ''}`.trim()
            : undefined;
        return {
          ready: reason === undefined,
          ...(reason === undefined ? {} : { reason }),
          details: { group: pipeline.group, ...stats },
        };
      },
    };
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}
