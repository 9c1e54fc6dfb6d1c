import type { ConsumedRecord, Transport } from '@sluice/core';
import {
  ackedStoredProblems,
  compareAckedStored,
  describeRun,
  type PublishRun,
  readAll,
  startPublishers,
} from './acked-stored-check.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface AckedStoredAcrossRestartOptions {
  /** Opens a client of the broker under test (one publishes, a fresh one reads at the end). */
  readonly open: () => Promise<Transport>;
  /** Opens the client that reads the topic at the end (e.g. with a longer request timeout). Default `open`. */
  readonly openReader?: () => Promise<Transport>;
  /** A topic the run creates: it must not exist yet. */
  readonly topic: { readonly name: string; readonly partitions: number };
  /** Kills and restarts the broker (as the fault test does it); resolves once it was started again. */
  readonly restart: () => Promise<void>;
  /** Publishing time before the restart. Default 1500 ms. */
  readonly beforeMs?: number;
  /** Publishing time after `restart()` resolved. Default 2000 ms. */
  readonly afterMs?: number;
  readonly publishers?: number;
  readonly batchSize?: number;
  readonly keys?: number;
  readonly retryDelayMs?: number;
  readonly tag: string;
}

/**
 * A fresh topic, concurrent publishers at full rate, the broker restarted mid-stream; publishers retry a failed
 * batch until acknowledged (at least once: a retried record may be stored twice). Afterwards every acknowledged
 * record is at its acknowledged position, nothing is stored that was never published, and each publisher's
 * records of a key are in publish order. Throws an `Error` listing the problems; returns a summary line.
 */
export async function ackedStoredAcrossRestart(options: AckedStoredAcrossRestartOptions): Promise<string> {
  const publisherTransport = await options.open();
  let run: PublishRun;
  let ackedBeforeRestart = 0;
  let ackedWhenRestarted = 0;
  let restartMs = 0;
  try {
    await publisherTransport.ensureTopic({
      name: options.topic.name,
      kind: 'event',
      partitions: options.topic.partitions,
    });
    const publishers = startPublishers({
      transport: publisherTransport,
      topic: options.topic.name,
      tag: options.tag,
      retry: true,
      retryDelayMs: options.retryDelayMs ?? 100,
      ...(options.publishers === undefined ? {} : { publishers: options.publishers }),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.keys === undefined ? {} : { keys: options.keys }),
    });
    await sleep(options.beforeMs ?? 1500);
    ackedBeforeRestart = publishers.run.acks.length;
    const t0 = Date.now();
    try {
      await options.restart();
    } finally {
      restartMs = Date.now() - t0;
    }
    ackedWhenRestarted = publishers.run.acks.length;
    await sleep(options.afterMs ?? 2000);
    publishers.stop();
    run = await publishers.done;
  } finally {
    await publisherTransport.close().catch(() => undefined);
  }
  const reader = await (options.openReader ?? options.open)();
  let stored: ConsumedRecord[];
  try {
    stored = await readAll(reader, options.topic.name);
  } finally {
    await reader.close().catch(() => undefined);
  }
  const verdict = compareAckedStored(run, stored);
  const problems = ackedStoredProblems(run, verdict, true);
  if (run.acks.length <= ackedWhenRestarted) problems.push('nothing was acknowledged after the restart');
  const summary =
    `${describeRun(run, verdict)}; ${ackedBeforeRestart} acknowledged before the kill, ` +
    `${ackedWhenRestarted - ackedBeforeRestart} while restarting (${restartMs} ms)`;
  if (problems.length > 0)
    throw new Error(`acknowledged means stored, across a restart: ${problems.join('; ')} [${summary}]`);
  return summary;
}
