import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PeerErrors } from './peer-error-log.js';
import type { PeerConcurrency } from './peer-outbox.js';

/** What the listener process reported when stopped. */
export interface PeerListenerResult {
  readonly meanBatch: number;
  readonly errors: PeerErrors;
  /** Set when the process died before it was stopped. */
  readonly crashed?: string;
}

/** A running peer-listener-process.ts. */
export interface PeerListener {
  /** Messages handed to the handler so far (as last reported, at most 50 ms old). */
  readonly handled: () => number;
  /** Stops it; resolves with its report (killing it after 10 s if it does not exit). */
  readonly stop: () => Promise<PeerListenerResult>;
}

/**
 * Starts pg-transactional-outbox's replication listener in a child process (see peer-listener-process.ts);
 * `onArrivals`, when given, receives each message's id and handler time. Resolves once the process runs.
 */
export async function startPeerListener(
  url: string,
  schema: string,
  concurrency: PeerConcurrency,
  busPath: string,
  onArrivals?: (arrivals: readonly [string, number][]) => void,
): Promise<PeerListener> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./peer-listener-process.ts', import.meta.url)),
    [url, schema, concurrency, busPath, onArrivals ? '1' : '0'],
    { execArgv: process.execArgv },
  );
  let handled = 0;
  let final: PeerListenerResult | undefined;
  let crashed: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      if (final === undefined) crashed = `exited with ${signal ?? code} before it was stopped`;
      resolve();
    });
  });
  child.on(
    'message',
    (m: { ready?: boolean; handled?: number; arrived?: [string, number][]; final?: PeerListenerResult }) => {
      if (m.handled !== undefined) handled = m.handled;
      if (m.arrived && m.arrived.length > 0) onArrivals?.(m.arrived);
      if (m.final) final = m.final;
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) =>
      reject(new Error(`peer listener process exited with ${code} before it ran`)),
    );
  });
  return {
    handled: () => handled,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.send({ stop: true });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return (
        final ?? {
          meanBatch: Number.NaN,
          errors: { logged: 0, warned: 0, unhandled: 0, samples: [] },
          crashed: crashed ?? 'no report',
        }
      );
    },
  };
}
