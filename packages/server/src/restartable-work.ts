/** A relay or consumer as a runner drives it: started, stopped, and ended (rejecting if it died). */
export interface Work {
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** The lifecycle a runner gives its relay or consumer: start, pause (stop, keep connections), resume, stop. */
export interface RestartableWork<W extends Work> {
  /** Rejects when the running work died; resolves after `stop()`. */
  readonly done: Promise<void>;
  /** The running work, `undefined` while paused or stopped. */
  current(): W | undefined;
  /** When the running work was started (ms since the epoch). */
  startedAt(): number;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops the work, then runs `close` (the connections). Idempotent. */
  stop(close: () => Promise<void>): Promise<void>;
}

/**
 * Runs `start()`'s work until stopped, and again after a pause: only the current work's death rejects `done`
 * (a paused or stopped one ending is expected).
 */
export function restartableWork<W extends Work>(start: () => W): RestartableWork<W> {
  let work: W | undefined;
  let startedAt = 0;
  let failed: (error: unknown) => void = () => undefined;
  let ended: () => void = () => undefined;
  const died = new Promise<void>((_resolve, reject) => {
    failed = reject;
  });
  const finished = new Promise<void>((resolve) => {
    ended = resolve;
  });
  let stopped: Promise<void> | undefined;
  const run = () => {
    const started = start();
    started.done.catch((error: unknown) => {
      if (work === started) failed(error);
    });
    work = started;
    startedAt = Date.now();
  };
  run();
  return {
    done: Promise.race([died, finished]),
    current: () => work,
    startedAt: () => startedAt,
    async pause() {
      const current = work;
      work = undefined;
      await current?.stop();
    },
    async resume() {
      if (work === undefined && stopped === undefined) run();
    },
    stop(close) {
      stopped ??= (async () => {
        const current = work;
        work = undefined;
        await current?.stop().catch(() => undefined);
        await close();
        ended();
      })();
      return stopped;
    },
  };
}
